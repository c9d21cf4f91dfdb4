package server

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sigshare/sigshare/transmitter/poll"
)

// longPollTimeout returns the long-poll timeout a poll endpoint configured with d uses.
func longPollTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return poll.DefaultLongPollTimeout
	}
	return min(d, poll.MaxLongPollTimeout)
}

// newHTTPServer returns the HTTP server of a node: bounded header and body read times,
// a write timeout that leaves room for long polls of up to longPoll, and the standard
// library's error log sent to log.
func newHTTPServer(h http.Handler, tlsConf *tls.Config, log *slog.Logger, longPoll time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      longPoll + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// HTTP/1.1 only: SSF needs nothing of HTTP/2, and an HTTP/2 connection makes a
		// graceful shutdown wait a second for the peer to act on GOAWAY.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
}

// serve serves srv on l, with TLS when tlsConf is not nil, and returns nil after a
// Shutdown.
func serve(srv *http.Server, l net.Listener, tlsConf *tls.Config) error {
	var err error
	if tlsConf != nil {
		err = srv.ServeTLS(l, "", "")
	} else {
		err = srv.Serve(l)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// listenerURL returns "https://host:port" (or http) for a listener address.
func listenerURL(a net.Addr, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + a.String()
}

// BaseURL returns the URL at which a node serving on l is reached directly: "https://"
// (or "http://" without TLS) followed by the listener's host:port, e.g. to make an issuer
// for a listener on port 0.
func BaseURL(l net.Listener, tls bool) string { return listenerURL(l.Addr(), tls) }
