package jsonwire

import "strconv"

// FindEnd returns the offset just after the JSON value that starts at data[i] (no
// leading white space) without checking its syntax beyond what finding its end needs:
// strings (with escapes) are skipped as a whole and brackets are counted; a scalar ends
// at the next delimiter (',', '}', ']' or white space). The caller must have the value
// checked completely by another parser. It fails when the value does not end before the
// data does, or nests deeper than maxDepth levels.
func FindEnd(data []byte, i, maxDepth int) (int, error) {
	if i >= len(data) {
		return i, &SyntaxError{Offset: i, Reason: "unexpected end of input, want a value"}
	}
	depth := 0
	for i < len(data) {
		switch c := data[i]; c {
		case '"':
			j := i + 1
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					j++ // the escaped character
				}
				j++
			}
			if j >= len(data) {
				return i, &SyntaxError{Offset: len(data), Reason: "unterminated string"}
			}
			i = j + 1
		case '{', '[':
			depth++
			if depth > maxDepth {
				return i, &SyntaxError{Offset: i, Reason: "nesting deeper than " + strconv.Itoa(maxDepth)}
			}
			i++
			continue
		case '}', ']':
			if depth == 0 {
				return i, &SyntaxError{Offset: i, Reason: "unexpected closing bracket"}
			}
			depth--
			i++
		default:
			if depth == 0 {
				// A scalar: it ends at a delimiter.
				j := i
				for j < len(data) {
					if d := data[j]; d == ',' || d == '}' || d == ']' || d == ' ' || d == '\t' || d == '\n' || d == '\r' {
						break
					}
					j++
				}
				if j == i {
					return i, &SyntaxError{Offset: i, Reason: "want a value"}
				}
				return j, nil
			}
			i++
			continue
		}
		if depth == 0 {
			return i, nil
		}
	}
	return i, &SyntaxError{Offset: len(data), Reason: "unterminated value"}
}
