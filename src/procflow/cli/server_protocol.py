"""uvicorn's fast httptools protocol, made to answer an h2c upgrade offer in plain HTTP/1.1."""

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class UpgradeTolerantHttpToolsProtocol(HttpToolsProtocol):
    """Serves requests that offer `Upgrade: h2c` (Java's HttpClient does) as HTTP/1.1.

    llhttp treats any `Connection: Upgrade` request as body-less and stops at the end of its
    headers, so the stock protocol hands the app an empty body. Here the request head is fed
    again, without the offer, to a fresh parser that then frames the body into the same cycle.
    """

    _replaying_head = False

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        while True:
            try:
                self.parser.feed_data(data)
                return
            except httptools.HttpParserError:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
                return
            except httptools.HttpParserUpgrade as stop:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                    return
                data = self._head_without_upgrade() + data[stop.args[0] :]

    def _head_without_upgrade(self) -> bytes:
        """Reset the parser and return the current request's head minus the upgrade offer."""
        lines = [self.scope["method"].encode("ascii"), b" ", self.url, b" HTTP/1.1\r\n"]
        for name, value in self.headers:
            if name == b"upgrade":
                continue
            if name == b"connection":
                tokens = [t.strip() for t in value.split(b",")]
                value = b", ".join(t for t in tokens if t and t.lower() != b"upgrade")
                if not value:
                    continue
            lines += [name, b": ", value, b"\r\n"]
        lines.append(b"\r\n")
        self.cycle.more_body = True
        self.cycle.message_event.clear()
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self._replaying_head = True
        return b"".join(lines)

    def on_message_begin(self) -> None:
        if not self._replaying_head:
            super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        if not self._replaying_head:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._replaying_head:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if not self._replaying_head:
            super().on_headers_complete()
            return
        self._replaying_head = False
        self.cycle.keep_alive = self.parser.should_keep_alive()
