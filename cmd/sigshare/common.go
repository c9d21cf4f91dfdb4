package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/transmitter"
)

// clientPolicy is the policy of static clients.
func clientPolicy(singleStream bool) transmitter.ClientPolicy {
	return transmitter.ClientPolicy{SingleStream: singleStream}
}

// httpClient returns a client trusting roots (nil: the system roots), with a timeout.
func httpClient(roots *x509.CertPool, timeout time.Duration) *http.Client {
	return &http.Client{Transport: server.ClientTransport(roots), Timeout: timeout}
}

// clientForCAFiles returns an HTTP client that trusts the system roots plus the CA files.
func clientForCAFiles(files []string, timeout time.Duration) (*http.Client, error) {
	if len(files) == 0 {
		return httpClient(nil, timeout), nil
	}
	roots, err := server.LoadCertPool(files...)
	if err != nil {
		return nil, err
	}
	return httpClient(roots, timeout), nil
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// indentJSON re-indents raw JSON for display; invalid JSON is returned as it is.
func indentJSON(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return raw
	}
	return b.Bytes()
}

// httpError describes a failed HTTP exchange in one line, from the answer's JSON error
// body when it has one (never echoing credentials: the request is not shown).
func httpError(what string, resp *http.Response, body []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Err         string `json:"err"`
		Desc2       string `json:"description"`
	}
	_ = json.Unmarshal(body, &e)
	code, desc := e.Error, e.Description
	if code == "" {
		code, desc = e.Err, e.Desc2
	}
	switch {
	case desc != "":
		return fmt.Errorf("%s: %s (HTTP %d %s)", what, desc, resp.StatusCode, code)
	case code != "":
		return fmt.Errorf("%s: HTTP %d %s", what, resp.StatusCode, code)
	}
	return fmt.Errorf("%s: HTTP %s", what, resp.Status)
}
