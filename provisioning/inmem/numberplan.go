package inmem

import (
	"maps"
	"slices"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// The plan of numbers: users, rooms, groups and queues sharing one UserStore share its numbers,
// as they share one table of numbers in PostgreSQL. These helpers are the bookkeeping every
// store of the plan does; their callers hold the user store's lock.

// numberHolder says what has number in the plan: "user", "conference room", "ring group" or
// "call queue"; "" when the number is free.
func (s *UserStore) numberHolder(number string) string {
	switch {
	case has(s.users, number):
		return "user"
	case has(s.rooms.numbers(), number):
		return "conference room"
	case has(s.groups.numbers(), number):
		return "ring group"
	case has(s.queues.numbers(), number):
		return "call queue"
	}
	return ""
}

// has reports whether m holds number; a nil m holds nothing.
func has[T any](m map[string]T, number string) bool {
	_, ok := m[number]
	return ok
}

// inNumberOrder returns the values of m, a store's map by number, shorter numbers first as the
// PostgreSQL stores list them; never nil, so that an empty list is [] in JSON.
func inNumberOrder[T any](m map[string]T) []T {
	numbers := slices.SortedFunc(maps.Keys(m), byNumber)
	all := make([]T, 0, len(numbers))
	for _, n := range numbers {
		all = append(all, m[n])
	}
	return all
}

// byNumber compares two numbers of the plan in provisioning.Less's order, for sorting.
func byNumber(a, b string) int {
	switch {
	case provisioning.Less(a, b):
		return -1
	case provisioning.Less(b, a):
		return 1
	}
	return 0
}

// lookupNumber returns m[number], the what ("room", "group", "queue") with that number, or
// ENOTFOUND when the plan gives the number to no such thing.
func lookupNumber[T any](m map[string]T, what, number string) (T, error) {
	v, ok := m[number]
	if !ok {
		return v, switchboard.Errorf(switchboard.ENOTFOUND, "no %s with number %s", what, number)
	}
	return v, nil
}
