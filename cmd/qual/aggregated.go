package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/dataapi"
	"qual.cx/operator/dataapi/frontproxy"
	"qual.cx/operator/internal/store"
)

// aggregatedFlags configure the data.qual.cx aggregated API that `qual apiserver` serves on
// its own TLS port beside the REST API: one deployment serves both surfaces from one store
// and one informer cache, and the Service of config/aggregated selects its pods.
type aggregatedFlags struct {
	addr              string
	certFile, keyFile string
	// certDir, when set, is where a self-signed certificate is written (qual dev reads it
	// back for the APIService's caBundle).
	certDir string
	// kubeconfig reaches the kube-apiserver for delegated authentication and authorization;
	// empty means --kubeconfig, then KUBECONFIG, then in-cluster.
	kubeconfig string
}

func (f *aggregatedFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.addr, "aggregated-addr", ":8443", "TLS listen address of the data.qual.cx aggregated API (kubectl get interviews,findings); 0 turns it off")
	fs.StringVar(&f.certFile, "aggregated-tls-cert-file", "", "serving certificate of the aggregated API (default: self-signed, in memory)")
	fs.StringVar(&f.keyFile, "aggregated-tls-key-file", "", "key of --aggregated-tls-cert-file")
}

// server builds the aggregated API server, or returns nil when it is off. kube must be the
// process's informer cache (it reads namespaces and Campaigns on every request).
func (f *aggregatedFlags) server(log logr.Logger, kubeconfig string, continueKey []byte, db store.Store, kube client.Reader) (*dataapi.Server, error) {
	if f.addr == "0" || f.addr == "" {
		return nil, nil
	}
	if f.kubeconfig != "" {
		kubeconfig = f.kubeconfig
	}
	if kubeconfig == "" {
		kubeconfig = os.Getenv("KUBECONFIG")
	}
	srv, err := dataapi.New(dataapi.Config{
		Addr: f.addr, CertFile: f.certFile, KeyFile: f.keyFile, CertDir: f.certDir,
		AlternateDNS: serviceNames(dataapi.ServiceName, qualv1alpha1.SystemNamespace),
		Kubeconfig:   kubeconfig, ContinueKey: continueKey, Store: db, Kube: kube, Logger: log.WithName("aggregated"),
	})
	if err != nil {
		return nil, fmt.Errorf("aggregated API: %w", err)
	}
	return srv, nil
}

// serviceNames are the names the aggregator may dial a Service by (it verifies
// <name>.<namespace>.svc), for a self-signed certificate.
func serviceNames(name, ns string) []string {
	return []string{name, name + "." + ns, name + "." + ns + ".svc", name + "." + ns + ".svc.cluster.local"}
}

// withAggregation makes the dev control plane's kube-apiserver an aggregation layer: a
// front-proxy CA and client certificate in its certificate folder, and the flags naming them.
func withAggregation(api *envtest.APIServer, certDir string) error {
	flags, err := frontproxy.Write(certDir)
	if err != nil {
		return err
	}
	args := api.Configure()
	for k, v := range flags {
		args.Set(k, v)
	}
	return nil
}

// devAggregatedDir is the folder of `qual dev`'s self-signed aggregated-API certificate.
func devAggregatedDir(dir string) string { return filepath.Join(dir, "aggregated") }

// registerDevAggregated points the dev control plane's APIService at the in-process server,
// through an ExternalName Service for localhost, and waits until it is Available.
func registerDevAggregated(ctx context.Context, c client.Client, srv *dataapi.Server, certDir string) error {
	ca, err := dataapi.ServingCA(certDir)
	if err != nil {
		return err
	}
	if err := dataapi.RegisterLocal(ctx, c, qualv1alpha1.SystemNamespace, srv.Port(), ca); err != nil {
		return err
	}
	return poll(ctx, "the APIService "+dataapi.APIServiceName+" Available", func() error {
		ok, msg, err := dataapi.APIServiceAvailable(ctx, c)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("not available: %s", msg)
		}
		return nil
	})
}
