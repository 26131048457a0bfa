"""A local stand-in for Turnkey's API over real HTTP: it refuses any request whose X-Stamp
does not verify (ECDSA P-256 over the exact body, against the registered API public key),
answers in the shapes of Turnkey's documented responses, keeps the wallets' keys itself,
and leaves signing activities pending until they are polled once."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from solders.keypair import Keypair

ORGANIZATION = "org-3f1e2d"


def _verify_stamp(stamp_header: str, body: bytes, api_public_key: str) -> bool:
    try:
        padded = stamp_header + "=" * (-len(stamp_header) % 4)
        stamp = json.loads(base64.urlsafe_b64decode(padded))
        if stamp["publicKey"] != api_public_key:
            return False
        if stamp["scheme"] != "SIGNATURE_SCHEME_TK_API_P256":
            return False
        key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), bytes.fromhex(api_public_key)
        )
        key.verify(bytes.fromhex(stamp["signature"]), body, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError, KeyError):
        return False


class FakeTurnkey:
    def __init__(self, api_public_key: str) -> None:
        self.api_public_key = api_public_key
        self.keys: dict[str, Keypair] = {}  # address -> key, inside the "enclave"
        self.wallet_names: set[str] = set()
        self.pending: dict[str, dict[str, Any]] = {}  # activity id -> completed activity
        self.rejected_stamps = 0
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.paths.append(self.path)
                if not _verify_stamp(self.headers.get("X-Stamp", ""), body, fake.api_public_key):
                    fake.rejected_stamps += 1
                    self._reply(401, {"code": 16, "message": "could not verify the stamp"})
                    return
                self._reply(200, fake.answer(self.path, json.loads(body)))

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
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

    def _activity(self, kind: str, status: str, result: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "organizationId": ORGANIZATION,
            "status": status,
            "type": kind,
            "result": result or {},
            "votes": [],
            "fingerprint": "sha256:" + uuid.uuid4().hex,
            "canApprove": False,
            "canReject": False,
        }

    def answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/public/v1/submit/create_wallet":
            params = body["parameters"]
            assert params["accounts"][0]["curve"] == "CURVE_ED25519"
            assert params["accounts"][0]["addressFormat"] == "ADDRESS_FORMAT_SOLANA"
            if params["walletName"] in self.wallet_names:
                return {"activity": self._activity(body["type"], "ACTIVITY_STATUS_FAILED", None)}
            self.wallet_names.add(params["walletName"])
            key = Keypair()
            self.keys[str(key.pubkey())] = key
            result = {"createWalletResult": {"walletId": str(uuid.uuid4()),
                                             "addresses": [str(key.pubkey())]}}  # fmt: skip
            return {"activity": self._activity(body["type"], "ACTIVITY_STATUS_COMPLETED", result)}
        if path == "/public/v1/submit/sign_raw_payload":
            params = body["parameters"]
            assert params["hashFunction"] == "HASH_FUNCTION_NOT_APPLICABLE"
            key = self.keys[params["signWith"]]
            raw = bytes(key.sign_message(bytes.fromhex(params["payload"])))
            result = {"signRawPayloadResult": {"r": raw[:32].hex(), "s": raw[32:].hex(), "v": "00"}}
            done = self._activity(body["type"], "ACTIVITY_STATUS_COMPLETED", result)
            waiting = dict(done, status="ACTIVITY_STATUS_PENDING", result={})
            self.pending[done["id"]] = done
            return {"activity": waiting}
        if path == "/public/v1/query/get_activity":
            return {"activity": self.pending.pop(body["activityId"])}
        raise AssertionError(f"unexpected path {path}")
