package main

import (
	"path"
	"strings"
	"testing"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/ssf"
)

// "sigshare demo" exits 0 with a complete summary: every CAEP and RISC type the
// transmitter emits, and a verification event, on both the push and the poll stream,
// each sent, delivered and verified once (issue 7).
func TestDemo(t *testing.T) {
	r := runCLI(t, t.TempDir(), nil, "", "demo")
	if r.code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "verdict: OK") {
		t.Fatalf("no OK verdict:\n%s", r.stdout)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.Fields(line)
		if len(f) == 7 && (f[0] == "push" || f[0] == "poll") {
			if f[2] != "1" || f[3] != "1" || f[4] != "1" {
				t.Errorf("row %q: want 1 sent, 1 delivered, 1 verified", line)
			}
			rows[f[0]+" "+f[1]] = true
		}
	}
	reg := ssf.DefaultRegistry()
	for _, uri := range reg.Types() {
		ns := namespace(uri)
		if ns != "caep" && ns != "risc" {
			continue
		}
		ev, _ := reg.Decode(uri, []byte("{}"))
		if _, deprecated := ev.(event.Deprecated); deprecated {
			if !strings.Contains(r.stdout, "not sent: "+ns+":"+path.Base(uri)) {
				t.Errorf("the summary does not say why %s was not sent", uri)
			}
			continue
		}
		for _, stream := range []string{"push", "poll"} {
			if !rows[stream+" "+ns+":"+path.Base(uri)] {
				t.Errorf("the summary has no %s row for %s", stream, uri)
			}
		}
	}
	for _, stream := range []string{"push", "poll"} {
		if !rows[stream+" ssf:verification"] {
			t.Errorf("no verification row for the %s stream", stream)
		}
	}
	if strings.Contains(r.stderr, "level=ERROR") || strings.Contains(r.stderr, "level=WARN") {
		t.Errorf("the demo logged problems:\n%s", r.stderr)
	}
}

// Every sample payload of the demo is valid for its type, and each type the transmitter
// emits by default has one.
func TestDemoSamplesAreValid(t *testing.T) {
	reg := ssf.DefaultRegistry()
	for uri, s := range samples {
		if _, _, err := s.build(reg, uri, fixedNow); err != nil {
			t.Errorf("%s: %v", uri, err)
		}
	}
}
