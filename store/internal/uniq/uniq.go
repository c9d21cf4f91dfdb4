// Package uniq removes repeated jtis from the lists the store backends receive, so that
// Ack, Renew and Release answer each jti once, in the order given (the store contract).
package uniq

// Strings returns v without repetitions, in first-occurrence order, as a new slice.
func Strings(v []string) []string {
	seen := make(map[string]bool, len(v))
	out := make([]string, 0, len(v))
	for _, s := range v {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
