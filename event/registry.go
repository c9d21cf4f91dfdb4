package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
)

// ErrRegistration is wrapped by the errors Register and Alias return.
var ErrRegistration = errors.New("event registry")

// Registry maps event type URIs to the Go types that decode them, and legacy alias URIs
// to the type URIs they stand for (SSF DIFF-3: the framework events moved from the sse to
// the ssf namespace). There are no global registries: a Registry is an explicit value,
// and package ssf's DefaultRegistry returns a new one with every CAEP, RISC and SSF type.
//
// A Registry is safe for concurrent use, and registering is allowed at any time, also
// while other goroutines decode: each Decode sees the registrations that completed
// before it started. Registrations are copy-on-write, so Decode never blocks.
//
// The zero Registry is empty and ready to use.
type Registry struct {
	mu    sync.Mutex // serialises Register and Alias
	state atomic.Pointer[registryState]
}

type registryState struct {
	types   map[string]func() Event
	aliases map[string]string
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return new(Registry) }

func (r *Registry) load() *registryState {
	if s := r.state.Load(); s != nil {
		return s
	}
	return &registryState{}
}

// Register makes Decode decode payloads of type typeURI into the events newEvent
// returns. newEvent must return a new, empty value (typically a pointer, e.g.
// func() event.Event { return new(caep.SessionRevoked) }) whose Type() is typeURI.
//
// Decode hands the payload to the value's UnmarshalJSON method when it has one (without
// checking the JSON first, to parse it only once: the method must reject malformed JSON,
// as PayloadReader does), else to encoding/json.Unmarshal; then it calls Validate.
//
// Register fails, with an error wrapping ErrRegistration, when typeURI is not an absolute
// URI, is registered already (as a type or as an alias), or when newEvent is nil, returns
// nil or returns an event of another type.
func (r *Registry) Register(typeURI string, newEvent func() Event) error {
	if err := checkURI(typeURI); err != nil {
		return err
	}
	if newEvent == nil {
		return fmt.Errorf("%w: register %s: nil constructor", ErrRegistration, typeURI)
	}
	ev := newEvent()
	if ev == nil {
		return fmt.Errorf("%w: register %s: constructor returned nil", ErrRegistration, typeURI)
	}
	if got := ev.Type(); got != typeURI {
		return fmt.Errorf("%w: register %s: constructor returns %T whose Type() is %q", ErrRegistration, typeURI, ev, got)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.load()
	if _, ok := old.types[typeURI]; ok {
		return fmt.Errorf("%w: register %s: already registered", ErrRegistration, typeURI)
	}
	if c, ok := old.aliases[typeURI]; ok {
		return fmt.Errorf("%w: register %s: already an alias of %s", ErrRegistration, typeURI, c)
	}
	next := &registryState{types: make(map[string]func() Event, len(old.types)+1), aliases: old.aliases}
	for k, v := range old.types {
		next.types[k] = v
	}
	next.types[typeURI] = newEvent
	r.state.Store(next)
	return nil
}

// Alias declares alias a legacy URI of the registered type canonical, e.g.
// https://schemas.openid.net/secevent/sse/event-type/verification for the SSF
// verification event. Canonical resolves aliases; Decode does not (see Decode).
//
// Alias fails, with an error wrapping ErrRegistration, when alias is not an absolute URI
// or is registered already (as a type or as an alias), or when canonical is not a
// registered type.
func (r *Registry) Alias(alias, canonical string) error {
	if err := checkURI(alias); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.load()
	if _, ok := old.types[canonical]; !ok {
		return fmt.Errorf("%w: alias %s: %s is not a registered type", ErrRegistration, alias, canonical)
	}
	if _, ok := old.types[alias]; ok {
		return fmt.Errorf("%w: alias %s: already registered as a type", ErrRegistration, alias)
	}
	if c, ok := old.aliases[alias]; ok {
		return fmt.Errorf("%w: alias %s: already an alias of %s", ErrRegistration, alias, c)
	}
	next := &registryState{types: old.types, aliases: make(map[string]string, len(old.aliases)+1)}
	for k, v := range old.aliases {
		next.aliases[k] = v
	}
	next.aliases[alias] = canonical
	r.state.Store(next)
	return nil
}

func checkURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("%w: %q is not an absolute URI (SET-1: event identifiers are URIs)", ErrRegistration, uri)
	}
	return nil
}

// Canonical resolves uri: it returns (uri, true) when uri is a registered type, the
// registered type's URI and true when uri is an alias, and (uri, false) otherwise.
func (r *Registry) Canonical(uri string) (string, bool) {
	s := r.load()
	if _, ok := s.types[uri]; ok {
		return uri, true
	}
	if c, ok := s.aliases[uri]; ok {
		return c, true
	}
	return uri, false
}

// Types returns the registered type URIs, sorted (aliases are not included).
func (r *Registry) Types() []string {
	s := r.load()
	out := make([]string, 0, len(s.types))
	for k := range s.types {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Aliases returns a copy of the alias table: legacy URI → registered type URI.
func (r *Registry) Aliases() map[string]string {
	s := r.load()
	out := make(map[string]string, len(s.aliases))
	for k, v := range s.aliases {
		out[k] = v
	}
	return out
}

// Decode decodes payload, the value of the member typeURI of a SET's "events" claim.
//
// When typeURI is a registered type, the payload is decoded into that type (the returned
// Event is what the type's constructor returned, e.g. *caep.SessionRevoked) and
// validated. Any other typeURI, aliases included, decodes to a *Raw that keeps the
// payload verbatim after checking that it is a JSON object. Decode does not resolve
// aliases, so that strict decoding stays strict: a caller that accepts legacy URIs
// resolves them with Canonical first.
//
// Errors are *Error values wrapping ErrInvalid that name the event type and the member,
// e.g. `caep credential-change: member "change_type" is required`.
func (r *Registry) Decode(typeURI string, payload []byte) (Event, error) {
	newEvent := r.load().types[typeURI]
	if newEvent == nil {
		if typeURI == "" {
			return nil, &Error{Reason: "has no event type URI"}
		}
		raw := &Raw{EventType: typeURI}
		if err := raw.UnmarshalJSON(payload); err != nil {
			return nil, err
		}
		return raw, nil
	}
	ev := newEvent()
	var err error
	if u, ok := ev.(json.Unmarshaler); ok {
		err = u.UnmarshalJSON(payload)
	} else {
		err = json.Unmarshal(payload, ev)
	}
	if err != nil {
		return nil, asError(typeURI, err)
	}
	if err := ev.Validate(); err != nil {
		return nil, asError(typeURI, err)
	}
	return ev, nil
}

// asError returns err when it is already an *Error, else wraps it in one.
func asError(typ string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Type: typ, Reason: "is invalid", Err: err}
}
