package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// adminConn are the flags of the commands that call a transmitter's operator API
// (<issuer>/admin/…, authorized with the admin token): emit, stream create-static.
type adminConn struct {
	transmitter, adminToken string
	caFiles                 []string
	insecureHTTP            bool
	timeout                 time.Duration
}

func (c *adminConn) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&c.transmitter, "transmitter", "", "the transmitter's issuer URL (required)")
	fl.StringVar(&c.adminToken, "admin-token", "", "the transmitter's admin token (required; better from SIGSHARE_ADMIN_TOKEN)")
	fl.StringSliceVar(&c.caFiles, "ca-file", nil, "extra CA certificates (PEM) to trust for the transmitter")
	fl.BoolVar(&c.insecureHTTP, "insecure-http", false, "allow an http:// transmitter URL (loopback development only)")
	fl.DurationVar(&c.timeout, "timeout", 30*time.Second, "request timeout")
}

// required checks that the transmitter and the admin token were given.
func (c *adminConn) required() error {
	if c.transmitter == "" {
		return usagef("--transmitter is required: the transmitter's issuer URL")
	}
	if c.adminToken == "" {
		return usagef("--admin-token is required (or SIGSHARE_ADMIN_TOKEN)")
	}
	return nil
}

// base returns the checked transmitter URL without a trailing "/".
func (c *adminConn) base() (string, error) {
	return baseURL(c.transmitter, c.insecureHTTP, "--transmitter")
}

// post sends the JSON body to the operator API path under base and returns the answer's
// body when its status is want; another status is an error starting with refused and
// carrying the transmitter's error description.
func (c *adminConn) post(ctx context.Context, base, path string, body []byte, want int, refused string) ([]byte, error) {
	client, err := clientForCAFiles(c.caFiles, c.timeout)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.adminToken)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the transmitter at %s: %w", base, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		return nil, httpError(refused, resp, data)
	}
	return data, nil
}
