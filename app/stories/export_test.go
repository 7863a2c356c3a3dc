package stories

// SetBroadSearch lets tests force either plan of filters and PostgreSQL
// search: 1 makes every value broad, a huge n every value narrow (that also
// turns off the share rule). It forgets s's remembered plans on the way in
// and out so the next query decides afresh.
func SetBroadSearch(s *Service, n int64) (restore func()) {
	old, oldShare := broadSearch, broadShare
	broadSearch = n
	if n > 1<<40 {
		broadShare = 0
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
