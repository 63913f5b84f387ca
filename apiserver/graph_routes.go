package apiserver

// graphRoutes registers the knowledge graph and share-link endpoints, and the public page.
func (s *Server) graphRoutes() {}
