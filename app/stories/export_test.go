package stories

// SetBroadSearch lets tests force either SQLite search plan; it forgets
// s's remembered plans on the way in and out so the next query decides
// afresh.
func SetBroadSearch(s *Service, n int64) (restore func()) {
	old := broadSearch
	broadSearch = n
	s.plans.forget()
	return func() { broadSearch = old; s.plans.forget() }
}
