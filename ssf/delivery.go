package ssf

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Delivery method identifiers (SSF §6.1, digest SSF-DELIV-1).
const (
	// DeliveryPush is push-based delivery, RFC 8935: the Transmitter POSTs each SET to
	// the Receiver's endpoint_url (SSF §6.1.1).
	DeliveryPush = "urn:ietf:rfc:8935"
	// DeliveryPoll is poll-based delivery, RFC 8936: the Receiver polls the
	// Transmitter's endpoint_url (SSF §6.1.2).
	DeliveryPoll = "urn:ietf:rfc:8936"
)

// Legacy delivery method URIs of the RISC era and SSE ID1 (DIFF-4). [Delivery] accepts
// them, and their http:// spellings, as synonyms of [DeliveryPush] and [DeliveryPoll].
const (
	LegacyDeliveryPush = "https://schemas.openid.net/secevent/risc/delivery-method/push"
	LegacyDeliveryPoll = "https://schemas.openid.net/secevent/risc/delivery-method/poll"
)

// NormalizeDeliveryMethod maps the legacy RISC delivery method URIs (https and http
// spellings, DIFF-4) to [DeliveryPush] and [DeliveryPoll]; any other value is returned
// unchanged.
func NormalizeDeliveryMethod(method string) string {
	switch method {
	case LegacyDeliveryPush, "http://schemas.openid.net/secevent/risc/delivery-method/push":
		return DeliveryPush
	case LegacyDeliveryPoll, "http://schemas.openid.net/secevent/risc/delivery-method/poll":
		return DeliveryPoll
	}
	return method
}

// Delivery is the "delivery" member of a stream configuration (SSF §6.1, §8.1.1).
//
// Who supplies what (SSF §6.1.1, §6.1.2): the Receiver supplies Method, the push
// EndpointURL and AuthorizationHeader; the Transmitter supplies the poll EndpointURL.
//
// Decoding accepts, as the management API must (vendors §5.2 item 4, DIFF-4), the
// legacy member names "delivery_method" (for method) and "url" (for endpoint_url) and
// the legacy RISC method URIs, and normalizes them: Method always holds the URN after
// decoding, and encoding writes only the standard names. A delivery object without a
// method is a decoding error.
//
// AuthorizationHeader is a secret: String and LogValue redact it.
type Delivery struct {
	// Method is the delivery method URI: DeliveryPush or DeliveryPoll (or another URI a
	// peer defines).
	Method string
	// EndpointURL is the push endpoint (Receiver-supplied) or the poll endpoint
	// (Transmitter-supplied).
	EndpointURL string
	// AuthorizationHeader is the complete value of the Authorization header the
	// Transmitter sends with every push request, e.g. "Bearer abc" (SSF §6.1.1; AMB-12).
	AuthorizationHeader string
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

const objDelivery = "delivery"

func deliveryReserved(name string) bool {
	switch name {
	case "method", "endpoint_url", "authorization_header", "delivery_method", "url":
		return true
	}
	return false
}

// MarshalJSON implements json.Marshaler.
func (d Delivery) MarshalJSON() ([]byte, error) {
	e := newEncoder()
	if err := d.encode(e, objDelivery); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

func (d *Delivery) encode(e *encoder, object string) error {
	if d.Method == "" {
		return memberErr(object, "method", "is required")
	}
	e.str("method", d.Method)
	e.optStr("endpoint_url", d.EndpointURL)
	e.optStr("authorization_header", d.AuthorizationHeader)
	return e.extra(object, d.Extra, deliveryReserved)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Delivery) UnmarshalJSON(data []byte) error {
	v, err := decodeDelivery(data, objDelivery, "")
	if err != nil {
		return err
	}
	*d = *v
	return nil
}

func decodeDelivery(data []byte, object, prefix string) (*Delivery, error) {
	dec, err := newDecoder(object, prefix, data)
	if err != nil {
		return nil, err
	}
	var d Delivery
	method, hasMethod := dec.str("method")
	legacy, hasLegacy := dec.str("delivery_method")
	switch {
	case hasMethod && hasLegacy && NormalizeDeliveryMethod(method) != NormalizeDeliveryMethod(legacy):
		dec.addErr(dec.fail("delivery_method", "legacy member disagrees with method %q", method))
	case hasMethod && method == "":
		dec.addErr(dec.fail("method", "is empty"))
	case hasMethod:
		d.Method = NormalizeDeliveryMethod(method)
	case hasLegacy && legacy == "":
		dec.addErr(dec.fail("delivery_method", "is empty"))
	case hasLegacy:
		d.Method = NormalizeDeliveryMethod(legacy)
	case len(dec.errs) == 0:
		dec.addErr(dec.fail("method", "is required"))
	}
	ep, hasEP := dec.str("endpoint_url")
	legacyEP, hasLegacyEP := dec.str("url")
	switch {
	case hasEP && hasLegacyEP && ep != legacyEP:
		dec.addErr(dec.fail("url", "legacy member disagrees with endpoint_url %q", ep))
	case hasEP:
		d.EndpointURL = ep
	case hasLegacyEP:
		d.EndpointURL = legacyEP
	}
	d.AuthorizationHeader, _ = dec.str("authorization_header")
	d.Extra, err = dec.rest()
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// IsPush reports whether d uses push delivery (after legacy normalization).
func (d *Delivery) IsPush() bool { return NormalizeDeliveryMethod(d.Method) == DeliveryPush }

// IsPoll reports whether d uses poll delivery (after legacy normalization).
func (d *Delivery) IsPoll() bool { return NormalizeDeliveryMethod(d.Method) == DeliveryPoll }

// ValidateOptions relaxes validation. The zero value validates strictly.
type ValidateOptions struct {
	// InsecureAllowHTTP accepts http:// wherever SSF requires https:// (issuer, stream
	// iss, endpoint URLs, push and poll endpoint_url). For loopback tests and demos
	// only: SSF and the CAEP Interoperability Profile require TLS.
	InsecureAllowHTTP bool
}

// Validate checks d as it appears in a complete stream configuration (the form a
// Transmitter returns): see [Delivery.ValidateWith] with the zero ValidateOptions.
func (d *Delivery) Validate() error { return d.ValidateWith(ValidateOptions{}) }

// ValidateWith checks d as it appears in a complete stream configuration: the method
// is push or poll (SSF §6.1, IOP-10) and endpoint_url is an absolute https URL (http
// with InsecureAllowHTTP) for both methods (SSF §6.1.1; for poll the Transmitter must
// have supplied it, SSF §8.1.1.1).
func (d *Delivery) ValidateWith(opts ValidateOptions) error {
	return d.validate(objDelivery, "", opts, false)
}

// validate checks d. request selects the rules for a Receiver's request (create,
// update, replace): the poll endpoint_url is then the Transmitter's to supply and not
// checked.
func (d *Delivery) validate(object, prefix string, opts ValidateOptions, request bool) error {
	var errs []error
	switch NormalizeDeliveryMethod(d.Method) {
	case "":
		errs = append(errs, memberErr(object, prefix+"method", "is required"))
	case DeliveryPush:
		if d.EndpointURL == "" {
			errs = append(errs, memberErr(object, prefix+"endpoint_url", "is required for push delivery (SSF §6.1.1)"))
		} else if err := checkURL(d.EndpointURL, opts.InsecureAllowHTTP, false); err != nil {
			errs = append(errs, &MemberError{Object: object, Member: prefix + "endpoint_url", Err: err})
		}
	case DeliveryPoll:
		switch {
		case request:
			// Transmitter-supplied (SSF §6.1.2): whatever the Receiver sent is ignored.
		case d.EndpointURL == "":
			errs = append(errs, memberErr(object, prefix+"endpoint_url", "is required: the Transmitter supplies the poll URL (SSF §6.1.2, §8.1.1.1)"))
		default:
			if err := checkURL(d.EndpointURL, opts.InsecureAllowHTTP, false); err != nil {
				errs = append(errs, &MemberError{Object: object, Member: prefix + "endpoint_url", Err: err})
			}
		}
	default:
		errs = append(errs, memberErr(object, prefix+"method", "unsupported delivery method %q: want %s (push) or %s (poll)", d.Method, DeliveryPush, DeliveryPoll))
	}
	if strings.ContainsAny(d.AuthorizationHeader, "\r\n\x00") {
		errs = append(errs, memberErr(object, prefix+"authorization_header", "contains a line break or NUL, which cannot be sent in an HTTP header"))
	}
	return errors.Join(errs...)
}

// String describes d with the authorization header redacted.
func (d Delivery) String() string {
	auth := ""
	if d.AuthorizationHeader != "" {
		auth = " authorization_header=[redacted]"
	}
	return fmt.Sprintf("delivery{method=%s endpoint_url=%s%s}", d.Method, d.EndpointURL, auth)
}

// LogValue implements slog.LogValuer with the authorization header redacted.
func (d Delivery) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("method", d.Method), slog.String("endpoint_url", d.EndpointURL)}
	if d.AuthorizationHeader != "" {
		attrs = append(attrs, slog.String("authorization_header", "[redacted]"))
	}
	return slog.GroupValue(attrs...)
}

func (d *Delivery) clone() *Delivery {
	if d == nil {
		return nil
	}
	c := *d
	c.Extra = cloneExtra(d.Extra)
	return &c
}

func cloneExtra(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	c := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		c[k] = append(json.RawMessage(nil), v...)
	}
	return c
}

// checkURL checks that s is an absolute https URL with a host (http too when
// allowHTTP). noQuery additionally rejects a query and a fragment (issuer rules,
// SSF §7.1, §8.1.1).
func checkURL(s string, allowHTTP, noQuery bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("is not a URL: %w", err)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP {
			return fmt.Errorf("%q must use https", s)
		}
	case "":
		return fmt.Errorf("%q is not an absolute URL", s)
	default:
		return fmt.Errorf("%q must use https, not %s", s, u.Scheme)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q has no host", s)
	}
	if noQuery {
		if u.RawQuery != "" || u.ForceQuery {
			return fmt.Errorf("%q must not have a query component", s)
		}
		if u.Fragment != "" || strings.Contains(s, "#") {
			return fmt.Errorf("%q must not have a fragment component", s)
		}
	}
	return nil
}
