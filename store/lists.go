package store

import "encoding/json"

// JSONList is how the backends store a list of strings (filters): a JSON
// array, since patterns and job types may hold commas; "" for none.
func JSONList(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	b, _ := json.Marshal(xs) // strings only: cannot fail
	return string(b)
}

// ReadList reads what JSONList stored; nil for none.
func ReadList(s string) []string {
	if s == "" {
		return nil
	}
	var xs []string
	if json.Unmarshal([]byte(s), &xs) != nil || len(xs) == 0 {
		return nil
	}
	return xs
}
