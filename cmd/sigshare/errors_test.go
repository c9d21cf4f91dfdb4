package main

import (
	"testing"
)

// Wrong flags and unreachable servers: one line on stderr, a non-zero exit, never a
// stack trace or a usage dump (issue 7).
func TestErrorsAreOneClearLine(t *testing.T) {
	dead := "http://" + freeAddr(t) // nothing listens there
	cases := []struct {
		name string
		args []string
		code int
		text string
	}{
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"transmitter", "--no-such-flag"}, 2, "unknown flag: --no-such-flag"},
		{"bad flag value", []string{"transmitter", "--inactivity-timeout", "soon"}, 2, "invalid argument"},
		{"stray argument", []string{"transmitter", "extra"}, 2, "takes no arguments"},
		{"http issuer without --insecure-http", []string{"transmitter", "--issuer", "http://127.0.0.1:8417"}, 2, "not https"},
		{"bad client", []string{"transmitter", "--insecure-http", "--client", "nobody"}, 2, "NAME=TOKEN"},
		{"emit without transmitter", []string{"emit", "--type", "session-revoked"}, 2, "--transmitter is required"},
		{"emit unknown type", []string{"emit", "--transmitter", "https://tr.example.com", "--admin-token", "x", "--type", "sesion-revoked", "--subject-email", "a@example.com"}, 2, "did you mean session-revoked"},
		{"emit bad subject", []string{"emit", "--transmitter", "https://tr.example.com", "--admin-token", "x", "--type", "session-revoked", "--subject", `{"format":"email"}`}, 2, "--subject"},
		{"emit unreachable", []string{"emit", "--transmitter", dead, "--insecure-http", "--admin-token", "x", "--type", "session-revoked", "--subject-email", "a@example.com"}, 1, "cannot reach the transmitter"},
		{"emit over http", []string{"emit", "--transmitter", dead, "--admin-token", "x", "--type", "session-revoked", "--subject-email", "a@example.com"}, 2, "not https"},
		{"token verify unreachable jwks", []string{"token", "verify", "--jwks", "https://" + freeAddr(t) + "/jwks.json", "--issuer", "https://tr.example.com", "--audience", "a", "a.b.c"}, 1, "sigshare: "},
		{"token decode garbage", []string{"token", "decode", "not-a-token"}, 1, "not a compact JWS"},
		{"keys jwks missing file", []string{"keys", "jwks", "--key", "/nonexistent/key.pem"}, 1, "/nonexistent/key.pem"},
		{"keys generate bad alg", []string{"keys", "generate", "--alg", "HS256"}, 1, "HS256"},
		{"receiver unreachable", []string{"receiver", "--issuer", dead, "--insecure-http", "--token", "t", "--db", "r.db"}, 1, "sigshare: "},
		{"receiver without issuer", []string{"receiver", "--token", "t"}, 2, "--issuer"},
		{"receiver push without listen", []string{"receiver", "--issuer", "https://tr.example.com", "--delivery", "push"}, 2, "--listen"},
		{"receiver bad events", []string{"receiver", "--issuer", "https://tr.example.com", "--events", "nope-event"}, 2, "unknown event type"},
		{"stream list unreachable", []string{"stream", "list", "--issuer", dead, "--insecure-http", "--token", "t"}, 1, "sigshare: "},
		{"stream list over http", []string{"stream", "list", "--issuer", dead, "--token", "t"}, 2, "not https"},
		{"stream status bad value", []string{"stream", "status", "--issuer", "https://tr.example.com", "--stream-id", "x", "--set", "off"}, 2, "--set"},
		{"demo bad alg", []string{"demo", "--alg", "none"}, 1, "none"},
		{"bad log level", []string{"transmitter", "--log-level", "loud", "--insecure-http"}, 2, "--log-level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, t.TempDir(), nil, "", c.args...)
			checkOneLineError(t, r, c.code, c.text)
		})
	}
}

// A flag may come from SIGSHARE_<NAME>; the command line wins.
func TestFlagsFromEnvironment(t *testing.T) {
	r := runCLI(t, t.TempDir(), []string{"SIGSHARE_TRANSMITTER=https://tr.example.com", "SIGSHARE_ADMIN_TOKEN=x"}, "",
		"emit", "--type", "no-such-type", "--subject-email", "a@example.com")
	checkOneLineError(t, r, 2, "unknown event type")
	r = runCLI(t, t.TempDir(), []string{"SIGSHARE_TYPE=no-such-type", "SIGSHARE_TRANSMITTER=https://tr.example.com", "SIGSHARE_ADMIN_TOKEN=x"}, "",
		"emit", "--type", "also-unknown", "--subject-email", "a@example.com")
	checkOneLineError(t, r, 2, `"also-unknown"`)
	r = runCLI(t, t.TempDir(), []string{"SIGSHARE_INACTIVITY_TIMEOUT=soon"}, "", "transmitter")
	checkOneLineError(t, r, 2, "SIGSHARE_INACTIVITY_TIMEOUT")
}
