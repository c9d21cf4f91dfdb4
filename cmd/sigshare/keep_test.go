package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// "demo --keep" keeps its TLS servers running and prints what the other commands need;
// stream list, emit and token verify work against them with the printed CA file, the
// events emitted are printed as they arrive, and SIGTERM stops everything with exit 0.
func TestDemoKeep(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, nil, "demo", "--keep")
	waitStdout(t, p, "Events that arrive from now on are printed here")
	out, _ := p.output()
	field := func(label string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(label) + `\s+(\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("the demo did not print %q:\n%s", label, out)
		}
		return m[1]
	}
	issuer, caFile, admin, pushToken := field("transmitter (issuer)"), field("CA certificate"), field("admin token"), field("push receiver token")
	if !strings.HasPrefix(issuer, "https://127.0.0.1:") {
		t.Errorf("issuer %s", issuer)
	}
	if _, err := os.Stat(caFile); err != nil {
		t.Fatalf("CA file: %v", err)
	}

	list := mustRun(t, dir, nil, "", "stream", "list", "--issuer", issuer, "--token", pushToken, "--ca-file", caFile).stdout
	if !strings.Contains(list, `"urn:ietf:rfc:8935"`) {
		t.Errorf("stream list of the push receiver:\n%s", list)
	}
	checkOneLineError(t, runCLI(t, dir, nil, "", "stream", "list", "--issuer", issuer, "--token", pushToken), 1, "certificate")

	mustRun(t, dir, nil, "", "emit", "--transmitter", issuer, "--admin-token", admin, "--ca-file", caFile,
		"--type", "credential-change", "--subject-email", "dave@example.com", "--payload", `{"credential_type":"password","change_type":"update"}`)
	waitStdout(t, p, "push", "caep:credential-change", "dave@example.com")
	waitStdout(t, p, "poll", "caep:credential-change", "dave@example.com")

	if code := p.stop(); code != 0 {
		_, stderr := p.output()
		t.Errorf("demo --keep: exit %d after SIGTERM\n%s", code, stderr)
	}
	if _, err := os.Stat(caFile); err == nil {
		t.Error("the demo left its temporary directory behind")
	}
}

// The transmitter and the receiver commands with --tls-cert/--tls-key, and clients
// trusting the certificate through --ca-file (the TLS tour of docs/security.md).
func TestTLSFlags(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	addr := freeAddr(t)
	tx := start(t, dir, nil, "transmitter", "--addr", addr, "--tls-cert", certFile, "--tls-key", keyFile,
		"--client", "demo=demo-token", "--admin-token", "admin-token", "--allow-private-push", "--push-ca-file", certFile)
	pool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	tx.waitReady(client, "https://"+addr+"/readyz")
	issuer := "https://" + addr

	// A push receiver serving TLS with the same certificate, which the transmitter trusts
	// through --push-ca-file.
	rcv := start(t, dir, nil, "receiver", "--issuer", issuer, "--ca-file", certFile, "--token", "demo-token",
		"--delivery", "push", "--listen", freeAddr(t), "--tls-cert", certFile, "--tls-key", keyFile, "--events", "session-revoked")
	waitStderr(t, rcv, "receiver started")
	mustRun(t, dir, nil, "", "emit", "--transmitter", issuer, "--ca-file", certFile, "--admin-token", "admin-token",
		"--type", "session-revoked", "--subject-email", "frank@example.com")
	waitStdout(t, rcv, "frank@example.com")
	checkOneLineError(t, runCLI(t, dir, nil, "", "emit", "--transmitter", issuer, "--admin-token", "admin-token",
		"--type", "session-revoked", "--subject-email", "frank@example.com"), 1, "certificate")
	for _, p := range []*process{rcv, tx} {
		if code := p.stop(); code != 0 {
			_, stderr := p.output()
			t.Errorf("exit %d after SIGTERM:\n%s", code, stderr)
		}
	}
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "tls-key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}
