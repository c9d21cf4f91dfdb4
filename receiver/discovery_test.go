package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigshare/sigshare/ssf"
)

// metadataServer serves documents at fixed paths over TLS; every other path is 404.
type metadataServer struct {
	srv    *httptest.Server
	docs   map[string]string // path → body
	ctype  string
	hits   []string
	handle func(w http.ResponseWriter, r *http.Request) bool
}

func newMetadataServer(t *testing.T) *metadataServer {
	m := &metadataServer{docs: map[string]string{}, ctype: "application/json"}
	m.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.hits = append(m.hits, r.Method+" "+r.URL.Path)
		if m.handle != nil && m.handle(w, r) {
			return
		}
		body, ok := m.docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", m.ctype)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *metadataServer) opts() DiscoveryOptions {
	return DiscoveryOptions{HTTPClient: m.srv.Client()}
}

func metaJSON(t *testing.T, md *ssf.Metadata) string {
	t.Helper()
	b, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDiscover_WellKnownInserted_SSF_DISC_14(t *testing.T) {
	ctx := context.Background()
	m := newMetadataServer(t)
	base := m.srv.URL
	for _, tc := range []struct {
		name, issuer, path string
	}{
		{"no path", base, "/.well-known/ssf-configuration"},
		{"path", base + "/issuer1", "/.well-known/ssf-configuration/issuer1"},
		{"path with trailing slash", base + "/tenants/t1/", "/.well-known/ssf-configuration/tenants/t1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.docs = map[string]string{tc.path: metaJSON(t, &ssf.Metadata{Issuer: tc.issuer, JWKSURI: base + "/jwks", ConfigurationEndpoint: base + "/streams"})}
			m.hits = nil
			d, err := Discover(ctx, tc.issuer, m.opts())
			if err != nil {
				t.Fatal(err)
			}
			if d.Metadata.Issuer != tc.issuer || d.Issuer != tc.issuer || d.URL != base+tc.path {
				t.Errorf("got issuer %q/%q at %q", d.Metadata.Issuer, d.Issuer, d.URL)
			}
			if len(d.Tolerated) != 0 {
				t.Errorf("strict discovery tolerated %q", d.Tolerated)
			}
			if len(m.hits) != 1 || m.hits[0] != "GET "+tc.path { // SSF-DISC-15: GET
				t.Errorf("requests %q", m.hits)
			}
		})
	}
}

func TestDiscover_IssuerMismatchRefused_SSF_DISC_19(t *testing.T) {
	ctx := context.Background()
	m := newMetadataServer(t)
	base := m.srv.URL
	for _, tc := range []struct {
		name, asked, served string
		slash               bool
		ok                  bool
	}{
		{"other host", base, "https://evil.example.com", false, false},
		{"trailing slash strict", base, base + "/", false, false},
		{"trailing slash tolerated", base, base + "/", true, true},
		{"case differs", base, strings.ToUpper(base[:5]) + base[5:], true, false},
		{"path differs", base + "/a", base + "/b", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := ssf.WellKnownURL(tc.asked)
			path := strings.TrimPrefix(u, base)
			m.docs = map[string]string{path: metaJSON(t, &ssf.Metadata{Issuer: tc.served})}
			opts := m.opts()
			opts.IssuerIgnoreTrailingSlash = tc.slash
			d, err := Discover(ctx, tc.asked, opts)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if len(d.Tolerated) != 1 {
					t.Errorf("tolerated %q, want the trailing slash note", d.Tolerated)
				}
				return
			}
			if !errors.Is(err, ErrIssuerMismatch) {
				t.Fatalf("err = %v, want ErrIssuerMismatch", err)
			}
			var de *DiscoveryError
			if !errors.As(err, &de) || de.URL != u {
				t.Errorf("err %v does not name the URL %s", err, u)
			}
		})
	}
}

func TestDiscover_StrictRefusals(t *testing.T) {
	ctx := context.Background()
	m := newMetadataServer(t)
	base := m.srv.URL
	good := metaJSON(t, &ssf.Metadata{Issuer: base})

	t.Run("http issuer", func(t *testing.T) {
		_, err := Discover(ctx, "http://tr.example.com", DiscoveryOptions{})
		if !errors.Is(err, ErrInsecureURL) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("issuer with query", func(t *testing.T) {
		if _, err := Discover(ctx, base+"?x=1", m.opts()); err == nil {
			t.Fatal("accepted an issuer with a query")
		}
	})
	t.Run("404", func(t *testing.T) {
		m.docs = map[string]string{}
		_, err := Discover(ctx, base, m.opts())
		var de *DiscoveryError
		if !errors.As(err, &de) || de.Status != 404 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("content type", func(t *testing.T) {
		m.docs = map[string]string{"/.well-known/ssf-configuration": good}
		m.ctype = "text/html"
		defer func() { m.ctype = "application/json" }()
		if _, err := Discover(ctx, base, m.opts()); err == nil || !strings.Contains(err.Error(), "Content-Type") {
			t.Fatalf("err = %v", err)
		}
		opts := m.opts()
		opts.Compatibility = true
		d, err := Discover(ctx, base, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !containsSubstring(d.Tolerated, "Content-Type") {
			t.Errorf("tolerated %q", d.Tolerated)
		}
	})
	t.Run("too large", func(t *testing.T) {
		m.docs = map[string]string{"/.well-known/ssf-configuration": `{"issuer":"` + base + `","x":"` + strings.Repeat("a", 2000) + `"}`}
		opts := m.opts()
		opts.MaxResponseBytes = 1000
		if _, err := Discover(ctx, base, opts); !errors.Is(err, ErrResponseTooLarge) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("invalid metadata", func(t *testing.T) {
		m.docs = map[string]string{"/.well-known/ssf-configuration": `{"issuer":"` + base + `","jwks_uri":"http://insecure.example.com/jwks"}`}
		_, err := Discover(ctx, base, m.opts())
		var me *ssf.MemberError
		if !errors.As(err, &me) || me.Member != "jwks_uri" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong member type", func(t *testing.T) {
		m.docs = map[string]string{"/.well-known/ssf-configuration": `{"issuer":"` + base + `","delivery_methods_supported":"urn:ietf:rfc:8935"}`}
		if _, err := Discover(ctx, base, m.opts()); err == nil {
			t.Fatal("accepted a string for an array member")
		}
	})
	t.Run("redirect to another host", func(t *testing.T) {
		m.docs = map[string]string{}
		m.handle = func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, "https://other.example.com/.well-known/ssf-configuration", http.StatusFound)
			return true
		}
		defer func() { m.handle = nil }()
		if _, err := Discover(ctx, base, m.opts()); !errors.Is(err, ErrRedirectRefused) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("redirect on the same host", func(t *testing.T) {
		m.docs = map[string]string{"/moved": good}
		m.handle = func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/.well-known/ssf-configuration" {
				http.Redirect(w, r, "/moved", http.StatusFound)
				return true
			}
			return false
		}
		defer func() { m.handle = nil }()
		if _, err := Discover(ctx, base, m.opts()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("context", func(t *testing.T) {
		m.docs = map[string]string{"/.well-known/ssf-configuration": good}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := Discover(cctx, base, m.opts()); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

func containsSubstring(list []string, s string) bool {
	for _, v := range list {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// DIFF-2, vendors §5.1 item 7: legacy locations only in compatibility mode, tried in order.
func TestDiscover_CompatibilityLocations(t *testing.T) {
	ctx := context.Background()
	m := newMetadataServer(t)
	base := m.srv.URL
	issuer := base + "/realms/r1"
	for _, tc := range []struct{ name, path string }{
		{"ssf appended (Keycloak)", "/realms/r1/.well-known/ssf-configuration"},
		{"sse inserted", "/.well-known/sse-configuration/realms/r1"},
		{"sse appended", "/realms/r1/.well-known/sse-configuration"},
		{"risc inserted", "/.well-known/risc-configuration/realms/r1"},
		{"risc appended", "/realms/r1/.well-known/risc-configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.docs = map[string]string{tc.path: metaJSON(t, &ssf.Metadata{SpecVersion: "1_0", Issuer: issuer})}
			if _, err := Discover(ctx, issuer, m.opts()); err == nil {
				t.Fatal("strict discovery found a legacy location")
			}
			m.hits = nil
			opts := m.opts()
			opts.Compatibility = true
			d, err := Discover(ctx, issuer, opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.URL != base+tc.path {
				t.Errorf("URL = %s", d.URL)
			}
			if !containsSubstring(d.Tolerated, "non-standard location") {
				t.Errorf("tolerated %q", d.Tolerated)
			}
			cands, _ := ssf.DiscoveryCandidateURLs(issuer)
			for i, h := range m.hits {
				if h != "GET "+strings.TrimPrefix(cands[i], base) {
					t.Errorf("request %d = %s, want %s", i, h, cands[i])
				}
			}
		})
	}
	t.Run("none found", func(t *testing.T) {
		m.docs = map[string]string{}
		opts := m.opts()
		opts.Compatibility = true
		_, err := Discover(ctx, issuer, opts)
		if err == nil || strings.Count(err.Error(), "HTTP 404") != 6 {
			t.Fatalf("err = %v, want six 404s", err)
		}
	})
	t.Run("a found but invalid document ends the search", func(t *testing.T) {
		m.docs = map[string]string{
			"/.well-known/ssf-configuration/realms/r1": `{"issuer":"https://other.example.com"}`,
			"/realms/r1/.well-known/ssf-configuration": metaJSON(t, &ssf.Metadata{Issuer: issuer}),
		}
		opts := m.opts()
		opts.Compatibility = true
		if _, err := Discover(ctx, issuer, opts); !errors.Is(err, ErrIssuerMismatch) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFetchMetadata(t *testing.T) {
	ctx := context.Background()
	m := newMetadataServer(t)
	base := m.srv.URL
	t.Run("derived location", func(t *testing.T) {
		m.docs = map[string]string{"/.well-known/ssf-configuration/t1": metaJSON(t, &ssf.Metadata{Issuer: base + "/t1"})}
		d, err := FetchMetadata(ctx, base+"/.well-known/ssf-configuration/t1", m.opts())
		if err != nil {
			t.Fatal(err)
		}
		if d.Issuer != base+"/t1" {
			t.Errorf("issuer %q", d.Issuer)
		}
	})
	t.Run("foreign location", func(t *testing.T) {
		m.docs = map[string]string{"/config": metaJSON(t, &ssf.Metadata{Issuer: base + "/t1"})}
		if _, err := FetchMetadata(ctx, base+"/config", m.opts()); !errors.Is(err, ErrIssuerMismatch) {
			t.Fatalf("err = %v", err)
		}
		opts := m.opts()
		opts.ExpectedIssuer = base + "/t1"
		if _, err := FetchMetadata(ctx, base+"/config", opts); err != nil {
			t.Fatalf("with ExpectedIssuer: %v", err)
		}
		opts.ExpectedIssuer = base + "/t2"
		if _, err := FetchMetadata(ctx, base+"/config", opts); !errors.Is(err, ErrIssuerMismatch) {
			t.Fatalf("wrong ExpectedIssuer: %v", err)
		}
	})
}

// The vendor metadata documents (vectors/vendor/*metadata*.json), served from a test
// server with their hosts and placeholders replaced by the server's URL.
func TestDiscover_VendorMetadata(t *testing.T) {
	ctx := context.Background()
	m := newMetadataServer(t)
	base := m.srv.URL
	for _, tc := range []struct {
		file     string
		replace  []string // old, new pairs (new "" means base)
		path     string   // where it is served
		issuer   string   // "" means base
		direct   bool     // FetchMetadata of the served URL instead of Discover
		strictOK bool
		compatOK bool
		check    func(t *testing.T, d *Discovery)
	}{
		{
			file: "okta-transmitter-metadata.json", replace: []string{"https://{yourOktaDomain}", ""},
			path: "/.well-known/ssf-configuration", strictOK: true, compatOK: true,
			check: func(t *testing.T, d *Discovery) {
				if !d.Metadata.SupportsDelivery(ssf.DeliveryPush) || d.Metadata.StatusEndpoint != "" {
					t.Errorf("metadata %+v", d.Metadata)
				}
			},
		},
		{
			file: "okta-receiver-minimal-metadata.json", replace: []string{"https://issuer.com", "", "https://www.issuer.com", ""},
			path: "/.well-known/ssf-configuration", strictOK: true, compatOK: true,
		},
		{
			file: "kolide-metadata.json", replace: []string{"https://api.kolide.com", ""},
			path: "/.well-known/ssf-configuration", strictOK: true, compatOK: true,
			check: func(t *testing.T, d *Discovery) {
				if _, ok := d.Metadata.Extra["events_supported"]; !ok {
					t.Error("events_supported not kept as an extra member")
				}
			},
		},
		{
			file:    "google-risc-metadata.json",
			replace: []string{"https://accounts.google.com", "", "https://www.googleapis.com", "", "https://risc.googleapis.com", ""},
			path:    "/.well-known/risc-configuration", strictOK: false, compatOK: true,
			check: func(t *testing.T, d *Discovery) {
				md := d.Metadata
				if md.ConfigurationEndpoint != base+"/v1beta/v1beta/stream" || md.StatusEndpoint != base+"/v1beta/stream/status" {
					t.Errorf("legacy names not mapped: %q %q", md.ConfigurationEndpoint, md.StatusEndpoint)
				}
				if !md.SupportsDelivery(ssf.DeliveryPush) || md.DeliveryMethodsSupported[0] != ssf.LegacyDeliveryPush {
					t.Errorf("delivery methods %q", md.DeliveryMethodsSupported)
				}
				for _, want := range []string{"risc-configuration", "get_configuration_endpoint", "spec_version absent", "https equivalent"} {
					if !containsSubstring(d.Tolerated, want) {
						t.Errorf("tolerated %q lacks %q", d.Tolerated, want)
					}
				}
			},
		},
		{
			file: "authentik-metadata.json", replace: []string{"...", "", "<slug>", "app1"},
			path: "/.well-known/ssf-configuration/app1", issuer: "/.well-known/ssf-configuration/app1", direct: true,
			strictOK: false, compatOK: true,
			check: func(t *testing.T, d *Discovery) {
				if !containsSubstring(d.Tolerated, "does not lead to the configuration URL") {
					t.Errorf("tolerated %q", d.Tolerated)
				}
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			v := loadVector(t, "vendor/"+tc.file)
			doc := string(v.JSON)
			for i := 0; i < len(tc.replace); i += 2 {
				repl := tc.replace[i+1]
				if repl == "" {
					repl = base
				}
				doc = strings.ReplaceAll(doc, tc.replace[i], repl)
			}
			m.docs = map[string]string{tc.path: doc}
			issuer := base + tc.issuer
			for _, compat := range []bool{false, true} {
				opts := m.opts()
				opts.Compatibility = compat
				var d *Discovery
				var err error
				if tc.direct {
					d, err = FetchMetadata(ctx, base+tc.path, opts)
				} else {
					d, err = Discover(ctx, issuer, opts)
				}
				want := tc.strictOK
				if compat {
					want = tc.compatOK
				}
				if (err == nil) != want {
					t.Fatalf("compat=%v: err = %v, want success %v", compat, err, want)
				}
				if err == nil && compat && tc.check != nil {
					tc.check(t, d)
				}
			}
		})
	}
}
