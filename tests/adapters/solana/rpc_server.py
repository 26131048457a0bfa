"""A Solana JSON-RPC endpoint over real HTTP, answering the methods the RPC chain adapter uses
from a LiteSVM instance, so the same scenarios run through both chain adapters."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Coroutine
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from returns.result import Failure
from solders.transaction import Transaction

from rooms_adapters.solana.litesvm_chain import LiteSvmChain

T = TypeVar("T")
OK_STATUS = {"Ok": None}
FAILED = {"InstructionError": [0, {"Custom": 1}]}


class LiteSvmRpcServer:
    def __init__(self) -> None:
        self.chain = LiteSvmChain()
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.fail_next = 0  # answer the next N requests with HTTP 503
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    if server.fail_next:
                        server.fail_next -= 1
                        self._reply(503, b'{"error":"overloaded"}')
                        return
                    calls = body if isinstance(body, list) else [body]
                    answers = [server.answer(call) for call in calls]
                payload = answers if isinstance(body, list) else answers[0]
                self._reply(200, json.dumps(payload).encode())

            def _reply(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run one of the chain's (I/O-free) coroutines here, in the server's thread."""
        return asyncio.run(coro)

    def fund(self, address: str, lamports: int) -> str:
        with self.lock:
            return self.run(self.chain.fund(address, lamports))

    def balance(self, address: str) -> int:
        with self.lock:
            return self.run(self.chain.balance(address)).unwrap()

    def answer(self, call: dict[str, Any]) -> dict[str, Any]:
        method, params, ident = call["method"], call.get("params", []), call.get("id")
        self.requests.append(method)
        try:
            result = getattr(self, f"rpc_{method}")(*params)
        except RpcError as error:
            return {
                "jsonrpc": "2.0",
                "id": ident,
                "error": {"code": error.code, "message": str(error)},
            }
        return {"jsonrpc": "2.0", "id": ident, "result": result}

    def _context(self) -> dict[str, int]:
        return {"slot": self.chain.height}

    def rpc_getBalance(self, address: str, *_: object) -> dict[str, Any]:
        value = self.run(self.chain.balance(address)).unwrap()
        return {"context": self._context(), "value": value}

    def rpc_getBlockHeight(self, *_: object) -> int:
        return self.chain.height

    def rpc_getLatestBlockhash(self, *_: object) -> dict[str, Any]:
        blockhash = self.run(self.chain.latest_blockhash()).unwrap()
        return {
            "context": self._context(),
            "value": {
                "blockhash": blockhash.blockhash,
                "lastValidBlockHeight": blockhash.last_valid_block_height,
            },
        }

    def rpc_getSignaturesForAddress(
        self, address: str, config: dict[str, Any] | None = None
    ) -> list[Any]:
        config = config or {}
        listed = self.run(
            self.chain.signatures_for_address(
                address,
                before=config.get("before"),
                until=config.get("until"),
                limit=config.get("limit") or 1000,
            )
        ).unwrap()
        return [
            {
                "signature": s.signature,
                "slot": s.slot,
                "err": FAILED if s.failed else None,
                "memo": None,
                "blockTime": None,
                "confirmationStatus": "confirmed",
            }
            for s in listed
        ]

    def rpc_getTransaction(self, signature: str, *_: object) -> dict[str, Any] | None:
        raw = self.chain.raw_transactions.get(signature)
        details = self.run(self.chain.transaction(signature)).unwrap()
        if raw is None or details is None:
            return None
        keys = len(Transaction.from_bytes(raw).message.account_keys)
        return {
            "slot": details.slot,
            "transaction": [base64.b64encode(raw).decode(), "base64"],
            "meta": {
                "err": None if details.succeeded else FAILED,
                "status": OK_STATUS if details.succeeded else {"Err": FAILED},
                "fee": 5000,
                "preBalances": [0] * keys,
                "postBalances": [0] * keys,
                "innerInstructions": [],
                "logMessages": [],
                "preTokenBalances": [],
                "postTokenBalances": [],
                "rewards": [],
                "loadedAddresses": {"writable": [], "readonly": []},
                "computeUnitsConsumed": 150,
            },
            "blockTime": None,
            "version": "legacy",
        }

    def rpc_sendTransaction(self, encoded: str, *_: object) -> str:
        sent = self.run(self.chain.send_raw_transaction(base64.b64decode(encoded)))
        if isinstance(sent, Failure):
            raise RpcError(-32002, f"Transaction simulation failed: {sent.failure().reason}")
        return sent.unwrap()

    def rpc_getSignatureStatuses(self, signatures: list[str], *_: object) -> dict[str, Any]:
        statuses = self.run(self.chain.signature_statuses(signatures)).unwrap()
        return {
            "context": self._context(),
            "value": [
                None
                if not s.found
                else {
                    "slot": self.chain.height,
                    "confirmations": None,
                    "err": FAILED if s.failed else None,
                    "status": {"Err": FAILED} if s.failed else OK_STATUS,
                    "confirmationStatus": "confirmed",
                }
                for s in statuses
            ],
        }


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
