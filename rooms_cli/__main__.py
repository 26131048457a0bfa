from rooms_cli import main

main()
