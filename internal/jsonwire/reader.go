package jsonwire

// ObjectReader walks the members of one JSON object in document order, checking the
// whole object (nested values included) under its Rules as it goes:
//
//	var r jsonwire.ObjectReader
//	if err := r.Reset(data, rules); err != nil {
//		return err
//	}
//	for r.Next() {
//		switch string(r.Name()) {
//		case "iss":
//			iss = r.Value()
//		}
//	}
//	if err := r.Err(); err != nil {
//		return err
//	}
//
// The object must be the whole input, with optional white space around it: data after
// it is an error. Names and values are slices of the input, so reading allocates nothing
// but decoded names that hold escapes. The zero ObjectReader is empty; Reset starts it.
type ObjectReader struct {
	walk
	names nameSet
	name  []byte // the current name decoded
	// The current name as written and the current value are data[rawStart:rawEnd] and
	// data[valueStart:valueEnd]: offsets keep the reader small.
	rawStart, rawEnd     int
	valueStart, valueEnd int
	kind                 Kind
	plain                bool // a string value's contents are its value
	unchecked            bool // the value was only delimited (Unchecked)

	// Unchecked, when not nil, selects members whose values are not checked: their end
	// is found with FindEnd, for values the caller hands, exactly as sliced, to a parser
	// that checks them completely. It is called with the decoded name. Reset keeps it.
	Unchecked func(name []byte) bool
}

// Reset starts reading data, which must hold a JSON object (a *SyntaxError "want a JSON
// object" otherwise), under rules.
func (r *ObjectReader) Reset(data []byte, rules Rules) error {
	r.names.n, r.names.big = 0, nil
	r.name, r.kind, r.plain, r.unchecked = nil, Invalid, false, false
	r.rawStart, r.rawEnd, r.valueStart, r.valueEnd = 0, 0, 0, 0
	return r.start(data, rules, '{', "object")
}

// Next moves to the next member. It returns false at the end of the object or on an
// error; Err tells which.
func (r *ObjectReader) Next() bool {
	if !r.step('}', "object") {
		return false
	}
	s := &r.s
	rawStart := s.pos + 1
	raw, name, err := s.memberName(&r.names, true)
	if err != nil {
		return r.fail(err)
	}
	s.skipSpace()
	start := s.pos
	if r.Unchecked != nil && r.Unchecked(name) {
		end, err := FindEnd(s.data, start, int(s.maxDepth))
		if err != nil {
			return r.fail(err)
		}
		s.pos = end
		r.kind, r.plain, r.unchecked = KindOf(s.data[start]), false, true
	} else {
		r.kind, err = s.value(1)
		if err != nil {
			return r.fail(err)
		}
		r.plain, r.unchecked = s.strFlags == 0, false
	}
	r.name = name
	r.rawStart, r.rawEnd = rawStart, rawStart+len(raw)
	r.valueStart, r.valueEnd = start, s.pos
	return true
}

// Name returns the current member's name, decoded. It is a slice of the input unless
// the name holds escapes (or, when strings are not strict, invalid UTF-8); it must not
// be modified.
func (r *ObjectReader) Name() []byte { return r.name }

// RawName returns the current member's name as written in the input, without its quotes.
func (r *ObjectReader) RawName() []byte { return r.s.data[r.rawStart:r.rawEnd] }

// Value returns the current member's value exactly as written in the input.
func (r *ObjectReader) Value() []byte { return r.s.data[r.valueStart:r.valueEnd] }

// Kind returns the JSON type of the current member's value.
func (r *ObjectReader) Kind() Kind { return r.kind }

// Unquoted returns the current member's value decoded, as Rules.Unquote does, when it is
// a JSON string (ok is false otherwise, and for a value Unchecked selected). It knows
// from the scan whether the value needs decoding.
func (r *ObjectReader) Unquoted() (s string, ok bool) {
	if r.kind != String || r.unchecked {
		return "", false
	}
	return unquoted(r.Value(), r.plain), true
}

// Member is one member of a JSON object, as AppendMembers returns it.
type Member struct {
	// Name is the member name, decoded: a slice of the input unless it holds escapes
	// (or, when strings are not strict, invalid UTF-8).
	Name []byte
	// Value is the member's value exactly as written in the input.
	Value []byte
	// Kind is the JSON type of Value.
	Kind Kind
}

// AppendMembers checks that data is one JSON object under r, with optional white space
// around it, and appends its members to dst in document order: the whole object in one
// call, for callers that look at the members more than once. Names and values are slices
// of data. On an error it returns dst with the members read before it.
func (r Rules) AppendMembers(dst []Member, data []byte) ([]Member, error) {
	s := scanner{data: data}
	s.init(r)
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		return dst, s.fail("want a JSON object")
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(data) && data[s.pos] == '}' {
		s.pos++
	} else {
		var names nameSet
		for {
			s.skipSpace()
			_, name, err := s.memberName(&names, true)
			if err != nil {
				return dst, err
			}
			s.skipSpace()
			start := s.pos
			kind, err := s.value(1)
			if err != nil {
				return dst, err
			}
			dst = append(dst, Member{Name: name, Value: data[start:s.pos], Kind: kind})
			s.skipSpace()
			if s.pos >= len(data) {
				return dst, s.fail("unterminated object")
			}
			if data[s.pos] == ',' {
				s.pos++
				continue
			}
			if data[s.pos] != '}' {
				return dst, s.fail("want ',' or '}' in object")
			}
			s.pos++
			break
		}
	}
	s.skipSpace()
	if s.pos != len(data) {
		return dst, s.fail("data after the JSON object")
	}
	return dst, nil
}

// ArrayReader walks the elements of one JSON array, checking the whole array under its
// Rules as it goes; it is used like ObjectReader. Elements are slices of the input.
type ArrayReader struct {
	walk
	value []byte
	kind  Kind
	plain bool // a string element's contents are its value
	index int
}

// Reset starts reading data, which must hold a JSON array (a *SyntaxError "want a JSON
// array" otherwise), under rules.
func (r *ArrayReader) Reset(data []byte, rules Rules) error {
	r.value, r.kind, r.plain, r.index = nil, Invalid, false, -1
	return r.start(data, rules, '[', "array")
}

// Next moves to the next element. It returns false at the end of the array or on an
// error; Err tells which.
func (r *ArrayReader) Next() bool {
	if !r.step(']', "array") {
		return false
	}
	s := &r.s
	start := s.pos
	kind, err := s.value(1)
	if err != nil {
		return r.fail(err)
	}
	r.kind, r.value, r.plain = kind, s.data[start:s.pos], s.strFlags == 0
	r.index++
	return true
}

// Index returns the current element's index, from 0.
func (r *ArrayReader) Index() int { return r.index }

// Value returns the current element exactly as written in the input.
func (r *ArrayReader) Value() []byte { return r.value }

// Kind returns the JSON type of the current element.
func (r *ArrayReader) Kind() Kind { return r.kind }

// Unquoted returns the current element decoded, as Rules.Unquote does, when it is a JSON
// string (ok is false otherwise). It knows from the scan whether the element needs
// decoding.
func (r *ArrayReader) Unquoted() (s string, ok bool) {
	if r.kind != String {
		return "", false
	}
	return unquoted(r.value, r.plain), true
}

// walk is what ObjectReader and ArrayReader share: the scanner inside one container and
// how the walk ended.
type walk struct {
	s       scanner
	started bool
	done    bool
	err     error
}

// start begins walking data, which must hold the container that opens with open (what
// names it in errors: "object" or "array"), under rules.
func (w *walk) start(data []byte, rules Rules, open byte, what string) error {
	w.s = scanner{data: data}
	w.s.init(rules)
	w.started, w.done, w.err = false, false, nil
	w.s.skipSpace()
	if w.s.pos >= len(data) || data[w.s.pos] != open {
		return w.failed(w.s.fail("want a JSON " + what))
	}
	w.s.pos++
	return nil
}

// step moves to where the next member or element starts, past the separator, in a
// container that closes with end. It returns false at the end of the container (data
// after it is an error) and on an error.
func (w *walk) step(end byte, what string) bool {
	if w.done {
		return false
	}
	s := &w.s
	s.skipSpace()
	if !w.started {
		w.started = true
		if s.pos < len(s.data) && s.data[s.pos] == end {
			return w.finish(what)
		}
		return true
	}
	if s.pos >= len(s.data) {
		return w.fail(s.fail("unterminated " + what))
	}
	switch s.data[s.pos] {
	case ',':
		s.pos++
		s.skipSpace()
		return true
	case end:
		return w.finish(what)
	}
	return w.fail(s.fail("want ',' or '" + string(end) + "' in " + what))
}

// finish ends the walk at the closing bracket, which must end the data.
func (w *walk) finish(what string) bool {
	w.s.pos++
	w.done = true
	w.s.skipSpace()
	if w.s.pos != len(w.s.data) {
		w.err = w.s.fail("data after the JSON " + what)
	}
	return false
}

// fail ends the walk with err; it returns false, for Next.
func (w *walk) fail(err error) bool {
	w.failed(err)
	return false
}

func (w *walk) failed(err error) error {
	w.err, w.done = err, true
	return err
}

// Err returns the error that ended the walk: a *SyntaxError or a *DuplicateNameError;
// nil at the end of a well-formed object or array.
func (w *walk) Err() error { return w.err }
