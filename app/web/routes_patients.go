package web

// patientRoutes: filled in by the patients capability.
func (s *Server) patientRoutes() []Route {
	return nil
}
