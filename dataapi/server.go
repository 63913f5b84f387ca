// Package dataapi serves the store's interviews, messages, findings and analyses as the
// read-only Kubernetes API group data.qual.cx/v1alpha1, through the kube-apiserver's
// aggregation layer. It is built on k8s.io/apiserver, as metrics-server is: the
// kube-apiserver's front proxy authenticates the caller, this server authenticates the front
// proxy and asks the kube-apiserver (SubjectAccessReview) whether the caller may get or list
// the resource in the namespace, then reads the rows of the namespace's team from the store.
// Nothing is kept in etcd or in memory, so replicas answer alike.
package dataapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	utilcompatibility "k8s.io/apiserver/pkg/util/compatibility"
	"sigs.k8s.io/controller-runtime/pkg/client"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/apiserver/cursor"
	"qual.cx/operator/dataapi/openapi"
	"qual.cx/operator/internal/store"
)

// Config is what the aggregated server needs.
type Config struct {
	// Addr is the TLS listen address, e.g. ":8443"; port 0 picks a free one (see Server.Addr).
	Addr string
	// CertFile and KeyFile are the serving certificate. When empty, a self-signed one is made
	// for localhost, the Service's names and AlternateDNS: written into CertDir when set (so
	// an APIService can carry it as caBundle), else kept in memory.
	CertFile, KeyFile, CertDir string
	AlternateDNS               []string
	// Kubeconfig reaches the kube-apiserver that authenticates and authorizes requests
	// (TokenReview, SubjectAccessReview, the front proxy's CA in kube-system); empty means
	// in-cluster.
	Kubeconfig string
	// ContinueKey signs continue tokens; replicas must share it.
	ContinueKey []byte
	// Store holds the rows; Kube reads namespaces and Campaigns, from an informer cache.
	Store  store.Store
	Kube   client.Reader
	Logger logr.Logger
}

// Server is the aggregated API server.
type Server struct {
	generic  *genericapiserver.GenericAPIServer
	listener net.Listener
	log      logr.Logger
}

// New builds the server and binds its port; Run serves.
func New(c Config) (*Server, error) {
	if c.Store == nil || c.Kube == nil || len(c.ContinueKey) == 0 {
		return nil, errors.New("dataapi: Store, Kube and ContinueKey are required")
	}
	scheme, codecs, err := newScheme()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("dataapi: listen on %s: %w", c.Addr, err)
	}
	gc, err := genericConfig(c, ln, codecs)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	gc.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, openapinamer.NewDefinitionNamer(scheme))
	gc.OpenAPIConfig.Info.Title, gc.OpenAPIConfig.Info.Version = "Qual data", datav1alpha1.SchemeGroupVersion.Version
	gc.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, openapinamer.NewDefinitionNamer(scheme))
	gc.OpenAPIV3Config.Info.Title, gc.OpenAPIV3Config.Info.Version = "Qual data", datav1alpha1.SchemeGroupVersion.Version
	generic, err := gc.Complete(nil).New("qual-data", genericapiserver.NewEmptyDelegate())
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("dataapi: create server: %w", err)
	}
	info := genericapiserver.NewDefaultAPIGroupInfo(datav1alpha1.GroupName, scheme, metav1.ParameterCodec, codecs)
	info.VersionedResourcesStorageMap[datav1alpha1.SchemeGroupVersion.Version] = storages(c)
	if err := generic.InstallAPIGroup(&info); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("dataapi: install %s: %w", datav1alpha1.GroupName, err)
	}
	// Ready only while the store answers: the aggregator then sends no one to a replica
	// that would fail every request.
	if err := generic.AddReadyzChecks(healthz.NamedCheck("store", func(r *http.Request) error {
		return c.Store.Ping(r.Context())
	})); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("dataapi: readiness: %w", err)
	}
	return &Server{generic: generic, listener: ln, log: c.Logger}, nil
}

// genericConfig is the generic server's configuration: TLS on ln, delegated authentication
// and authorization, no admission (nothing is written), no priority and fairness (the
// kube-apiserver in front of it applies its own).
func genericConfig(c Config, ln net.Listener, codecs serializer.CodecFactory) (*genericapiserver.Config, error) {
	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.Listener = ln
	serving.BindPort = ln.Addr().(*net.TCPAddr).Port
	serving.ServerCert.CertKey.CertFile, serving.ServerCert.CertKey.KeyFile = c.CertFile, c.KeyFile
	serving.ServerCert.CertDirectory = c.CertDir // empty: a self-signed certificate in memory
	serving.ServerCert.PairName = "qual-data"
	if err := serving.MaybeDefaultWithSelfSignedCerts("localhost", c.AlternateDNS, []net.IP{net.ParseIP("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("dataapi: self-signed certificate: %w", err)
	}
	gc := genericapiserver.NewConfig(codecs)
	gc.EffectiveVersion = utilcompatibility.DefaultBuildEffectiveVersion()
	gc.EnableProfiling = false
	if err := serving.ApplyTo(&gc.SecureServing, &gc.LoopbackClientConfig); err != nil {
		return nil, fmt.Errorf("dataapi: serving: %w", err)
	}
	authn := genericoptions.NewDelegatingAuthenticationOptions()
	authn.RemoteKubeConfigFile = c.Kubeconfig
	if err := authn.ApplyTo(&gc.Authentication, gc.SecureServing, nil); err != nil {
		return nil, fmt.Errorf("dataapi: delegated authentication: %w", err)
	}
	authz := genericoptions.NewDelegatingAuthorizationOptions()
	authz.RemoteKubeConfigFile = c.Kubeconfig
	if err := authz.ApplyTo(&gc.Authorization); err != nil {
		return nil, fmt.Errorf("dataapi: delegated authorization: %w", err)
	}
	return gc, nil
}

// storages are the group's resources.
func storages(c Config) map[string]rest.Storage {
	dir, tok := directory{kube: c.Kube}, tokens{codec: cursor.NewCodec(c.ContinueKey)}
	return map[string]rest.Storage{
		"interviews": &interviewStorage{kind: interviewKind(), store: c.Store, dir: dir, tokens: tok},
		"messages":   &messageStorage{kind: messageKind(), store: c.Store, dir: dir, tokens: tok},
		"findings":   &findingStorage{kind: findingKind(), store: c.Store, dir: dir, tokens: tok},
		"analyses":   &analysisStorage{kind: analysisKind(), store: c.Store, dir: dir, tokens: tok},
	}
}

// resourceInfos describe every kind, for the scheme's field labels.
func resourceInfos() []resourceInfo {
	return []resourceInfo{interviewKind().info, messageKind().info, findingKind().info, analysisKind().info}
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Port is the port the server listens on.
func (s *Server) Port() int { return s.listener.Addr().(*net.TCPAddr).Port }

// Run serves until ctx ends, then drains in-flight requests.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info("serving the aggregated API", "group", datav1alpha1.SchemeGroupVersion.String(), "addr", s.Addr())
	if err := s.generic.PrepareRun().RunWithContext(ctx); err != nil {
		return fmt.Errorf("dataapi: %w", err)
	}
	return nil
}
