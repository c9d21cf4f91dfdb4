package receiver

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
)

// The legacy SETs vendors send (vectors/vendor), signed with the test key: refused in
// strict mode (invalid_request), accepted in compatibility mode with the tolerances
// recorded in Token.Leniency, which the handler sees.
func TestPush_VendorLegacySETs(t *testing.T) {
	ctx := context.Background()
	key, _ := testKeys()
	for _, file := range []string{
		"authentik-session-revoked.json",
		"google-risc-account-disabled.json",
		"login-gov-authorization-fraud-detected.json",
		"oauth-event-types-token-revoked.json",
		"okta-receiver-identifier-changed.json",
		"okta-receiver-user-risk-change.json",
		"okta-transmitter-credential-change-reset-all.json",
		"okta-transmitter-credential-change.json",
		"okta-transmitter-session-revoked.json",
		"omnissa-device-compliance-change.json",
	} {
		t.Run(file, func(t *testing.T) {
			v := loadVector(t, "vendor/"+file)
			var claims struct {
				Iss string       `json:"iss"`
				Aud ssf.Audience `json:"aud"`
			}
			if err := json.Unmarshal(v.JSON, &claims); err != nil {
				t.Fatal(err)
			}
			raw := signRaw(t, []byte(`{"alg":"RS256","typ":"secevent+jwt","kid":"test-key-1"}`), v.JSON, key)
			for _, compat := range []bool{false, true} {
				cfg := set.Config{Issuer: claims.Iss, Audiences: claims.Aud}
				dec := set.DecodeOptions{}
				if compat {
					cfg.Compatibility = set.FullCompatibility()
					dec.Compatibility = cfg.Compatibility
				}
				verifier, err := set.NewVerifier(testKeySet(t), cfg)
				if err != nil {
					t.Fatal(err)
				}
				st := memory.New()
				var seen set.Leniency
				mux := NewMux()
				mux.Fallback(func(ctx context.Context, tok *set.Token) error { seen = tok.Leniency; return nil })
				w, _ := NewWorker(WorkerConfig{Inbox: st, Mux: mux, Decode: dec})
				var hookLeniency set.Leniency
				rec, _ := NewRecipient(RecipientConfig{Verifier: verifier, Inbox: st, Hooks: Hooks{
					Verified: func(_ Transport, _ string, l set.Leniency) { hookLeniency = l },
				}})
				h, _ := NewPushHandler(PushHandlerConfig{Recipient: rec, Compatibility: compat})
				resp := push(h, raw, MediaTypeSET, "")
				if !compat {
					if resp.Code != http.StatusBadRequest || !strings.Contains(resp.Body.String(), `"err":"invalid_request"`) {
						t.Errorf("strict: %d %s", resp.Code, resp.Body)
					}
					st.Close()
					continue
				}
				if resp.Code != http.StatusAccepted {
					t.Fatalf("compat: %d %s", resp.Code, resp.Body)
				}
				if _, err := w.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
				if seen == 0 || seen != hookLeniency {
					t.Errorf("handler saw leniency %q, hook %q", seen, hookLeniency)
				}
				t.Logf("leniency: %s", seen)
				st.Close()
			}
		})
	}
}
