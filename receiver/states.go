package receiver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sync"
	"time"
)

// VerificationStatesConfig configures [NewVerificationStates].
type VerificationStatesConfig struct {
	// Secret keys the states Issue creates (at least 32 bytes). Nil means a random
	// secret: the states this process issued are then not recognised after a restart.
	// A Receiver that must recognise them across restarts (or across nodes) configures
	// the same secret everywhere; it is a secret (never logged).
	Secret []byte
	// TTL is how long a state is accepted after it was issued or recorded. Zero means
	// 24 hours. SSF sets no bound on verification latency (SSF-VERIFY-7).
	TTL time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// VerificationStates are the verification states a Receiver requested, per stream
// (SSF §8.1.4.2), against which Verification events are checked (SSF §8.1.4.1,
// SSF-VERIFY-4).
//
// Issue creates a state bound to the stream: a random nonce, the issue time and an
// HMAC-SHA256 over both and the stream_id. Such a state needs no storage: it is
// recognised for TTL by any VerificationStates with the same Secret, also after a
// restart, and it is valid for its stream only. States chosen by the caller are recorded
// with Expect and kept in memory for TTL.
//
// Check accepts a Verification event without state (a Transmitter-initiated
// verification: AMB-22, conformance RM5) and one whose state is a live state of the
// stream, comparing in constant time (SEC-19); anything else is a mismatch, answered
// with invalid_state. Several outstanding requests are fine: each of their states
// matches.
//
// A VerificationStates is safe for concurrent use.
type VerificationStates struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time

	mu       sync.Mutex
	expected map[string][]expectedState // stream_id → recorded states
}

type expectedState struct {
	state   string
	expires time.Time
}

// NewVerificationStates returns an empty set of states.
func NewVerificationStates(cfg VerificationStatesConfig) (*VerificationStates, error) {
	v := &VerificationStates{
		ttl:      orDefault(cfg.TTL, 24*time.Hour),
		now:      cfg.Now,
		expected: make(map[string][]expectedState),
	}
	switch {
	case cfg.Secret == nil:
		v.secret = make([]byte, 32)
		if _, err := rand.Read(v.secret); err != nil {
			return nil, err
		}
	case len(cfg.Secret) < 32:
		return nil, errors.New("receiver: VerificationStatesConfig.Secret must have at least 32 bytes")
	default:
		v.secret = append([]byte(nil), cfg.Secret...)
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

const (
	stateNonceLen = 16
	stateMACLen   = 16
	stateRawLen   = 8 + stateNonceLen + stateMACLen
)

// Issue returns a new state for a verification request on the stream: 54 base64url
// characters, 128 random bits (SEC-19).
func (v *VerificationStates) Issue(streamID string) (string, error) {
	var raw [stateRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(v.now().Unix()))
	if _, err := rand.Read(raw[8 : 8+stateNonceLen]); err != nil {
		return "", err
	}
	copy(raw[8+stateNonceLen:], v.mac(streamID, raw[:8+stateNonceLen]))
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

func (v *VerificationStates) mac(streamID string, data []byte) []byte {
	h := hmac.New(sha256.New, v.secret)
	h.Write([]byte("sigshare verification state\x00"))
	h.Write([]byte(streamID))
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)[:stateMACLen]
}

// Expect records state, chosen by the caller, as requested for the stream.
func (v *VerificationStates) Expect(streamID, state string) {
	if state == "" {
		return
	}
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	list := v.expected[streamID][:0:0]
	for _, e := range v.expected[streamID] {
		if now.Before(e.expires) && e.state != state {
			list = append(list, e)
		}
	}
	v.expected[streamID] = append(list, expectedState{state: state, expires: now.Add(v.ttl)})
}

// Check reports whether a Verification event on the stream with this state is the
// answer to one of the Receiver's requests, or an unsolicited one (state empty).
func (v *VerificationStates) Check(streamID, state string) bool {
	if state == "" {
		return true
	}
	now := v.now()
	if raw, err := base64.RawURLEncoding.DecodeString(state); err == nil && len(raw) == stateRawLen {
		if hmac.Equal(raw[8+stateNonceLen:], v.mac(streamID, raw[:8+stateNonceLen])) {
			issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
			// A state from the future is one issued under a clock that later moved
			// back; accept it within the TTL either way.
			if d := now.Sub(issued); d < v.ttl && d > -v.ttl {
				return true
			}
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	ok := false
	for _, e := range v.expected[streamID] {
		if now.Before(e.expires) && subtle.ConstantTimeCompare([]byte(e.state), []byte(state)) == 1 {
			ok = true
		}
	}
	return ok
}
