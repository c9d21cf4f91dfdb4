package ssf

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wireVector is one file of testdata/vectors (schema: testdata/vectors INDEX in the shared
// vector set).
type wireVector struct {
	Name         string   `json:"name"`
	Source       string   `json:"source"`
	Kind         string   `json:"kind"`
	Valid        bool     `json:"valid"`
	Violations   []string `json:"violations"`
	Notes        string   `json:"notes"`
	Fragment     bool     `json:"fragment"`
	Legacy       bool     `json:"legacy"`
	Derived      bool     `json:"derived"`
	Placeholders bool     `json:"placeholders"`
	HTTP         *struct {
		StartLine string      `json:"start_line"`
		Method    string      `json:"method"`
		Target    string      `json:"target"`
		Status    int         `json:"status"`
		Headers   [][2]string `json:"headers"`
		Body      string      `json:"body"`
	} `json:"http"`
	Compact string          `json:"compact"`
	JSON    json.RawMessage `json:"json"`
}

func (v *wireVector) header(name string) string {
	if v.HTTP == nil {
		return ""
	}
	for _, h := range v.HTTP.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func loadVector(t *testing.T, path string) *wireVector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vectors", path))
	if err != nil {
		t.Fatal(err)
	}
	var v wireVector
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &v
}

// sameJSON fails the test unless a and b are the same JSON value.
func sameJSON(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("JSON differs (-want +got):\n%s\ngot: %s", d, got)
	}
}

// rawJSONComparer compares json.RawMessage values as JSON values.
var rawJSONComparer = cmp.Comparer(func(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return cmp.Equal(x, y)
})

// memberErrors returns every *MemberError in err's tree.
func memberErrors(err error) []*MemberError {
	var out []*MemberError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if me, ok := e.(*MemberError); ok {
			out = append(out, me)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// wantMemberError fails unless err names member (and, if non-empty, its message
// contains substr).
func wantMemberError(t *testing.T, err error, member, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one about member %q", member)
	}
	for _, me := range memberErrors(err) {
		if me.Member == member && strings.Contains(me.Error(), substr) {
			return
		}
	}
	t.Fatalf("error does not name member %q with %q:\n%v", member, substr, err)
}

// onlyMembers fails unless every MemberError in err names one of members.
func onlyMembers(t *testing.T, err error, members ...string) {
	t.Helper()
	mes := memberErrors(err)
	if err != nil && len(mes) == 0 {
		t.Fatalf("error has no MemberError: %v", err)
	}
	for _, me := range mes {
		ok := false
		for _, m := range members {
			if me.Member == m {
				ok = true
			}
		}
		if !ok {
			t.Errorf("unexpected problem with member %q: %v", me.Member, me)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return b
}

func intp(v int) *int { return &v }

func isErr(err, target error) bool { return errors.Is(err, target) }
