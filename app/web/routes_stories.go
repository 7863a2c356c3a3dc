package web

// storyRoutes: filled in by the stories capability.
func (s *Server) storyRoutes() []Route {
	return nil
}
