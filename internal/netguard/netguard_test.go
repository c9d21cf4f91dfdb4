package netguard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// SEC-17: the transmitter must not be steerable into its own network.
func TestCheck(t *testing.T) {
	all := Policy{AllowLoopback: true, AllowPrivate: true, AllowLinkLocal: true}
	cases := []struct {
		addr      string
		zeroAllow bool // allowed by the zero policy
		allAllow  bool // allowed with every Allow flag set
	}{
		{"93.184.216.34", true, true},
		{"2606:2800:220:1:248:1893:25c8:1946", true, true},
		{"127.0.0.1", false, true},
		{"127.8.9.10", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"10.1.2.3", false, true},
		{"172.16.0.1", false, true},
		{"192.168.1.1", false, true},
		{"100.64.0.1", false, true},
		{"fd00::1", false, true},
		{"169.254.169.254", false, true},
		{"fe80::1", false, true},
		{"64:ff9b::7f00:1", false, true}, // NAT64 form of 127.0.0.1
		{"64:ff9b::5db8:d822", true, true},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"255.255.255.255", false, false},
		{"198.18.0.1", false, true},
		{"240.0.0.1", false, true},
	}
	for _, c := range cases {
		ip := netip.MustParseAddr(c.addr)
		if err := (Policy{}).Check(ip); (err == nil) != c.zeroAllow {
			t.Errorf("zero policy Check(%s) = %v, want allowed=%v", c.addr, err, c.zeroAllow)
		} else if err != nil && !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Check(%s) error %v does not wrap ErrForbiddenAddress", c.addr, err)
		}
		if err := all.Check(ip); (err == nil) != c.allAllow {
			t.Errorf("permissive Check(%s) = %v, want allowed=%v", c.addr, err, c.allAllow)
		}
	}
}

func TestClientRefusesLoopbackUnlessAllowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	_, err := (Policy{}).NewClient(ClientOptions{}).Get(srv.URL)
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("zero policy reached loopback: err = %v", err)
	}

	resp, err := (Policy{AllowLoopback: true}).NewClient(ClientOptions{}).Get(srv.URL)
	if err != nil {
		t.Fatalf("loopback allowed but request failed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("redirect was followed")
	}))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer srv.Close()
	resp, err := (Policy{AllowLoopback: true}).NewClient(ClientOptions{}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want the 302 itself", resp.StatusCode)
	}
}

func TestCheckHost(t *testing.T) {
	ctx := context.Background()
	if err := (Policy{}).CheckHost(ctx, nil, "127.0.0.1"); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("literal loopback: %v", err)
	}
	if err := (Policy{}).CheckHost(ctx, nil, "localhost"); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("localhost: %v", err)
	}
	if err := (Policy{AllowLoopback: true}).CheckHost(ctx, nil, "localhost"); err != nil {
		t.Errorf("localhost with loopback allowed: %v", err)
	}
}
