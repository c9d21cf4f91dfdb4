package ssf

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Well-known URI suffixes for transmitter metadata (SSF §7.2, §7.2.2, DIFF-2).
const (
	WellKnownSSF  = "/.well-known/ssf-configuration"
	WellKnownSSE  = "/.well-known/sse-configuration"  // SSE ID1 (2021)
	WellKnownRISC = "/.well-known/risc-configuration" // RISC transmitters (SSF §7.2.2)
)

// WellKnownURL returns the URL of the transmitter metadata for issuer (SSF §7.2,
// SSF-DISC-14): "/.well-known/ssf-configuration" inserted between the host and the
// path of the issuer, after removing a terminating "/" from the path.
//
//	https://tr.example.com          → https://tr.example.com/.well-known/ssf-configuration
//	https://tr.example.com/issuer1/ → https://tr.example.com/.well-known/ssf-configuration/issuer1
//
// The issuer must be an absolute http or https URL without query, fragment or user
// information (whether https is required is for [Metadata.Validate] to say).
func WellKnownURL(issuer string) (string, error) {
	base, path, err := splitIssuer(issuer)
	if err != nil {
		return "", err
	}
	return base + WellKnownSSF + path, nil
}

// DiscoveryCandidateURLs returns, in the order a compatible Receiver tries them, the URLs
// at which Transmitters publish metadata for issuer (vendors §5.1 item 7, DIFF-2):
//
//  1. /.well-known/ssf-configuration inserted before the issuer path (SSF §7.2);
//  2. the same appended after the issuer path (Keycloak, SailPoint);
//  3. /.well-known/sse-configuration inserted, then appended (SSE ID1);
//  4. /.well-known/risc-configuration inserted, then appended (SSF §7.2.2).
//
// For an issuer without a path the inserted and appended forms coincide and appear
// once.
func DiscoveryCandidateURLs(issuer string) ([]string, error) {
	base, path, err := splitIssuer(issuer)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, 6)
	add := func(u string) {
		for _, v := range out {
			if v == u {
				return
			}
		}
		out = append(out, u)
	}
	for _, wk := range []string{WellKnownSSF, WellKnownSSE, WellKnownRISC} {
		add(base + wk + path)
		add(base + path + wk)
	}
	return out, nil
}

// splitIssuer returns "scheme://host[:port]" and the escaped path without a trailing
// "/".
func splitIssuer(issuer string) (base, path string, err error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return "", "", fmt.Errorf("ssf: issuer %q is not a URL: %w", issuer, err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", "", fmt.Errorf("ssf: issuer %q is not an absolute http(s) URL", issuer)
	case u.Host == "" || u.Opaque != "":
		return "", "", fmt.Errorf("ssf: issuer %q has no host", issuer)
	case u.User != nil:
		return "", "", fmt.Errorf("ssf: issuer %q must not contain user information", issuer)
	case u.RawQuery != "" || u.ForceQuery:
		return "", "", fmt.Errorf("ssf: issuer %q must not have a query component", issuer)
	case u.Fragment != "" || strings.Contains(issuer, "#"):
		return "", "", fmt.Errorf("ssf: issuer %q must not have a fragment component", issuer)
	}
	return u.Scheme + "://" + u.Host, strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

// Non-standard metadata member names some Transmitters publish (Google RISC) and the
// standard members [ParseMetadataLenient] maps them to.
var legacyMetadataNames = [...]struct{ legacy, standard string }{
	{"get_configuration_endpoint", "configuration_endpoint"},
	{"update_configuration_endpoint", "configuration_endpoint"},
	{"get_status_endpoint", "status_endpoint"},
}

// ParseMetadataLenient decodes transmitter metadata the way a Receiver's discovery client
// must to work with Transmitters in the field (vendors §5.1 item 7). It returns the
// metadata and one note for each thing it tolerated; the notes are meant for a log or
// a diagnostic display. Member types are still checked (a wrong type is an error).
//
// It tolerates and reports:
//
//   - the non-standard members get_configuration_endpoint, update_configuration_endpoint
//     (Google RISC: mapped to configuration_endpoint when that is absent, the former
//     preferred) and get_status_endpoint (mapped to status_endpoint); the originals
//     stay in Extra;
//   - delivery method URIs under http://schemas.openid.net/ (rewritten to https://);
//   - a missing spec_version (set to "1_0-ID1", SSF §7.1);
//   - a spec_version that is not a version such as "1_0" (kept as it is);
//   - empty arrays (dropped).
//
// The result still needs [Metadata.Validate] (or ValidateWith) and
// [Metadata.CheckIssuer] before use.
func ParseMetadataLenient(data []byte) (*Metadata, []string, error) {
	m, err := decodeMetadata(data)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }

	for _, n := range legacyMetadataNames {
		raw, ok := m.Extra[n.legacy]
		if !ok || isNull(raw) {
			continue
		}
		v, err := decodeString(raw)
		if err != nil {
			return nil, nil, memberErr(objMetadata, n.legacy, "%v", err)
		}
		target := m.endpointField(n.standard)
		if *target == "" && v != "" {
			*target = v
			note("non-standard member %q mapped to %q", n.legacy, n.standard)
		} else {
			note("non-standard member %q ignored: %q is already set", n.legacy, n.standard)
		}
	}
	for i, s := range m.DeliveryMethodsSupported {
		if rest, ok := strings.CutPrefix(s, "http://schemas.openid.net/"); ok {
			m.DeliveryMethodsSupported[i] = "https://schemas.openid.net/" + rest
			note("delivery method %q treated as its https equivalent", s)
		}
	}
	switch {
	case m.SpecVersion == "":
		m.SpecVersion = SpecVersion1_0ID1
		note("spec_version absent: assumed %q (SSF §7.1)", SpecVersion1_0ID1)
	default:
		if _, ok := parseSpecVersion(m.SpecVersion); !ok {
			note("spec_version %q is not a specification version; kept as it is", m.SpecVersion)
		}
	}
	if m.DeliveryMethodsSupported != nil && len(m.DeliveryMethodsSupported) == 0 {
		m.DeliveryMethodsSupported = nil
		note("empty array %q dropped", "delivery_methods_supported")
	}
	if m.CriticalSubjectMembers != nil && len(m.CriticalSubjectMembers) == 0 {
		m.CriticalSubjectMembers = nil
		note("empty array %q dropped", "critical_subject_members")
	}
	if m.AuthorizationSchemes != nil && len(m.AuthorizationSchemes) == 0 {
		m.AuthorizationSchemes = nil
		note("empty array %q dropped", "authorization_schemes")
	}
	return m, notes, nil
}

func (m *Metadata) endpointField(name string) *string {
	switch name {
	case "configuration_endpoint":
		return &m.ConfigurationEndpoint
	case "status_endpoint":
		return &m.StatusEndpoint
	}
	panic("ssf: no endpoint field " + name)
}

var _ json.Unmarshaler = (*Metadata)(nil)
