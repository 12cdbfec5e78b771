// Package e2e holds Switchboard's end-to-end tests: the real `switchboard` binary against a
// real Asterisk 22 and PostgreSQL, with SIP traffic from SIPp, baresip and our softphone. They
// carry the "integration" build tag and run in `make test`.
package e2e
