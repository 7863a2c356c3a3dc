package stories

import "math"

// ForcePlans makes every filter and PostgreSQL search take the broad plan
// (walk the recency index) or, with broad false, the narrow one (start from
// the matches). It forgets s's remembered plans on the way in and out so the
// next query decides afresh.
func ForcePlans(s *Service, broad bool) (restore func()) {
	old, oldShare := broadSearch, broadShare
	broadSearch, broadShare = math.MaxInt64, 0
	if broad {
		broadSearch = 1
	}
	s.plans.forget()
	return func() { broadSearch, broadShare = old, oldShare; s.plans.forget() }
}

// PlanIsBroad reports the plan s remembers for a filter ("story_tags:" or
// "story_channels:" and the value), and whether it remembers one.
func PlanIsBroad(s *Service, key string) (broad, ok bool) {
	s.plans.mu.Lock()
	defer s.plans.mu.Unlock()
	e, ok := s.plans.m[key]
	return e.answer, ok
}
