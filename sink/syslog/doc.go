// Package syslog is the syslog CEF sink: it sends audit records and job
// snapshots as RFC 5424 messages whose MSG is a CEF record, over TCP or
// TLS, framed by octet counting (RFC 5425/6587) or by LF.
//
// The wire format, the field mapping, the escaping rules and receiver
// configuration examples are in the README (section "Syslog CEF").
//
// # Delivery
//
// Syslog over TCP/TLS has no application-level acknowledgement. Send
// reports a batch as delivered only when every byte was written, the
// server's TCP stack acknowledged it (Linux: the socket send queue drained,
// SIOCOUTQ) and the server neither closed nor reset the connection nor sent
// a TLS alert during a short probe afterwards. That is the best available
// evidence; it does not prove that the server stored the records. A batch
// that fails is sent again as a whole, so delivery is at least once and
// every record carries a stable externalId.
//
// Client certificate refusals are detected rather than lost: after the TLS
// handshake the sink listens briefly (TLS 1.3 servers refuse a missing
// certificate only after the client finished the handshake; rsyslog's
// GnuTLS driver completes the handshake and then hangs up), and a server
// that asked for a client certificate and drops the connection on the first
// data is reported as a configuration error naming the client certificate.
//
// # Tests
//
// The rsyslog integration tests start their own rsyslogd (Debian packages
// rsyslog, rsyslog-gnutls, rsyslog-openssl) and skip when it is not
// installed or with -short. FuzzAppend checks the framing and escaping:
//
//	go test -run '^$' -fuzz FuzzAppend -fuzztime 1m ./sink/syslog
//
// Golden files are rewritten with go test ./sink/syslog -run TestGolden -update.
package syslog
