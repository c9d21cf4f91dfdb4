package main

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/ssf"
)

// eventNames maps short event-type names to type URIs, from the types of a registry
// (ssf.DefaultRegistry: every CAEP, RISC and SSF event type).
type eventNames struct {
	reg    *event.Registry
	byName map[string][]string // last path segment → URIs
	byNS   map[string]string   // "<namespace>:<name>" → URI
}

func newEventNames(reg *event.Registry) *eventNames {
	n := &eventNames{reg: reg, byName: map[string][]string{}, byNS: map[string]string{}}
	for _, uri := range reg.Types() {
		name := path.Base(uri)
		n.byName[name] = append(n.byName[name], uri)
		if ns := namespace(uri); ns != "" {
			n.byNS[ns+":"+name] = uri
		}
	}
	return n
}

// namespace returns "caep", "risc", "ssf" or "sse" for a type URI under
// https://schemas.openid.net/secevent/<ns>/event-type/, else "".
func namespace(uri string) string {
	const base = "https://schemas.openid.net/secevent/"
	if !strings.HasPrefix(uri, base) {
		return ""
	}
	ns, _, _ := strings.Cut(uri[len(base):], "/")
	return ns
}

// resolve returns the type URI of name: a URI (containing ":" and "/") as it is, a short
// name such as "session-revoked", or a qualified short name such as "caep:session-revoked".
func (n *eventNames) resolve(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("empty event type")
	}
	if strings.Contains(name, "://") || strings.HasPrefix(name, "urn:") {
		if canonical, ok := n.reg.Canonical(name); ok && canonical != name {
			return "", fmt.Errorf("event type %s is a legacy alias of %s: use that", name, canonical)
		}
		return name, nil
	}
	if uri, ok := n.byNS[strings.ToLower(name)]; ok {
		return uri, nil
	}
	uris := n.byName[strings.ToLower(name)]
	switch len(uris) {
	case 1:
		return uris[0], nil
	case 0:
		if s := n.suggest(name); s != "" {
			return "", fmt.Errorf("unknown event type %q: did you mean %s?", name, s)
		}
		return "", fmt.Errorf("unknown event type %q: give a type URI or one of the short names listed by --help", name)
	}
	var qualified []string
	for _, u := range uris {
		qualified = append(qualified, namespace(u)+":"+path.Base(u))
	}
	sort.Strings(qualified)
	return "", fmt.Errorf("event type %q is ambiguous: say %s", name, strings.Join(qualified, " or "))
}

// resolveList resolves a list of names; an empty list stays empty.
func (n *eventNames) resolveList(names []string) ([]string, error) {
	var out []string
	for _, name := range names {
		if strings.TrimSpace(name) == "" {
			continue
		}
		uri, err := n.resolve(name)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, uri) {
			out = append(out, uri)
		}
	}
	return out, nil
}

// suggest returns the known short names close to name (a shared prefix or containment,
// or an edit distance of at most 2).
func (n *eventNames) suggest(name string) string {
	name = strings.ToLower(name)
	var out []string
	for short := range n.byName {
		if strings.Contains(short, name) || strings.Contains(name, short) || editDistance(short, name) <= 2 {
			out = append(out, short)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// shortName returns the short name of a type URI ("caep:session-revoked"), or the URI.
func shortName(uri string) string {
	if ns := namespace(uri); ns != "" {
		return ns + ":" + path.Base(uri)
	}
	return uri
}

// shortNamesHelp lists the short names for --help texts.
func shortNamesHelp() string {
	var caep, risc, other []string
	for _, uri := range ssf.DefaultRegistry().Types() {
		switch namespace(uri) {
		case "caep":
			caep = append(caep, path.Base(uri))
		case "risc":
			risc = append(risc, path.Base(uri))
		default:
			other = append(other, path.Base(uri))
		}
	}
	sort.Strings(caep)
	sort.Strings(risc)
	sort.Strings(other)
	return "Event type short names (or give the full type URI; prefix caep:, risc: or ssf: to be explicit):\n" +
		"  CAEP: " + strings.Join(caep, ", ") + "\n" +
		"  RISC: " + strings.Join(risc, ", ") + "\n" +
		"  SSF:  " + strings.Join(other, ", ")
}
