package apiserver

// findingRoutes registers the findings and analyses endpoints.
func (s *Server) findingRoutes() {}
