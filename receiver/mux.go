package receiver

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/set"
)

// HandlerFunc processes one verified SET. It returns nil when the SET is processed; an
// error makes the worker call it again later (see [Worker]), and an error wrapped with
// [Permanent] parks the SET as a dead letter at once. It must honour ctx, which ends at
// the worker's HandlerTimeout.
type HandlerFunc func(ctx context.Context, tok *set.Token) error

// Mux routes each SET to the handler registered for its event, in the manner of
// http.ServeMux: by the Go type of the decoded event ([On]), else by the event type URI
// ([Mux.HandleType]: vendor types the registry decodes to *event.Raw), else to the
// fallback ([Mux.Fallback]). A SET with none of them is processed without a handler
// (AMB-28: a SET is a statement, not a command; it is still acknowledged).
//
// The SSF framework events are routed like any other: register On[*ssf.Verification]
// and On[*ssf.StreamUpdated] to see them.
//
// Registering is allowed at any time; a Mux is safe for concurrent use. Registering a
// second handler for the same Go type or URI replaces the first.
type Mux struct {
	mu       sync.RWMutex
	byType   map[reflect.Type]HandlerFunc
	byURI    map[string]HandlerFunc
	fallback HandlerFunc
}

// NewMux returns an empty Mux.
func NewMux() *Mux {
	return &Mux{byType: make(map[reflect.Type]HandlerFunc), byURI: make(map[string]HandlerFunc)}
}

// On registers h for the events whose decoded Go type is E, e.g.
//
//	receiver.On(mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
//		return sessions.RevokeAll(ctx, tok.Subject)
//	})
//
// Event types decode to pointers (*caep.SessionRevoked, *risc.AccountDisabled,
// *ssf.Verification, …); On for the value type (caep.SessionRevoked) is accepted too and
// receives a copy. On panics if mux or h is nil.
func On[E event.Event](mux *Mux, h func(ctx context.Context, tok *set.Token, ev E) error) {
	if mux == nil || h == nil {
		panic("receiver: On with a nil Mux or handler")
	}
	typ := reflect.TypeFor[E]()
	mux.mu.Lock()
	defer mux.mu.Unlock()
	mux.byType[typ] = func(ctx context.Context, tok *set.Token) error {
		ev, ok := tok.Event.(E)
		if !ok { // E is a value type and the event a pointer to it
			ev = reflect.ValueOf(tok.Event).Elem().Interface().(E)
		}
		return h(ctx, tok, ev)
	}
}

// HandleType registers h for the events whose type URI (Event.Type(), after
// compatibility-mode alias resolution) is typeURI. Use it for event types the registry
// does not know, which decode to *event.Raw (e.g. Okta's user-risk-change).
func (m *Mux) HandleType(typeURI string, h HandlerFunc) {
	if h == nil {
		panic("receiver: HandleType with a nil handler")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byURI[typeURI] = h
}

// Fallback registers h for every SET no other handler takes: unknown event types
// (*event.Raw) and typed events without a handler.
func (m *Mux) Fallback(h HandlerFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fallback = h
}

// Handler returns the handler for tok, or nil when none is registered.
func (m *Mux) Handler(tok *set.Token) HandlerFunc {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if tok.Event == nil {
		return m.fallback
	}
	t := reflect.TypeOf(tok.Event)
	if h, ok := m.byType[t]; ok {
		return h
	}
	if t.Kind() == reflect.Pointer {
		if h, ok := m.byType[t.Elem()]; ok {
			return h
		}
	}
	if h, ok := m.byURI[tok.Event.Type()]; ok {
		return h
	}
	return m.fallback
}

// Dispatch calls the handler for tok, and returns ErrNoHandler when there is none.
func (m *Mux) Dispatch(ctx context.Context, tok *set.Token) error {
	h := m.Handler(tok)
	if h == nil {
		return ErrNoHandler
	}
	return h(ctx, tok)
}

// ErrNoHandler is returned by [Mux.Dispatch] for a SET no handler takes.
var ErrNoHandler = errors.New("receiver: no handler for the event")

// PermanentError marks a handler error that retrying cannot fix (see [Permanent]).
type PermanentError struct{ Err error }

// Error implements error.
func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that the worker parks the SET as a dead letter without
// retrying. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// PanicError is the error a handler panic becomes: the SET is retried like after any
// other error.
type PanicError struct {
	// Value is what the handler panicked with.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error implements error.
func (e *PanicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.Value) }
