// Package frontproxy makes the certificates of a kube-apiserver's front proxy, the client
// identity the aggregation layer presents to aggregated API servers, and the flags that turn
// it on. `qual dev` and the envtest suites use it; a real cluster has its own (kubeadm makes
// front-proxy-ca.crt).
package frontproxy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// ClientName is the front proxy's client certificate's common name, the one name aggregated
// servers accept request headers from.
const ClientName = "front-proxy-client"

// validity of the generated certificates: a dev or test control plane is restarted long before.
const validity = 365 * 24 * time.Hour

// Write creates a front-proxy CA and a client certificate it signs in dir, and returns the
// kube-apiserver flags that make it the aggregation layer's front proxy. Aggregator routing
// to endpoints stays off: it cannot resolve an ExternalName Service, which is how an
// APIService reaches a server on localhost (the aggregator dials the external name at the
// APIService's port).
func Write(dir string) (map[string]string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("frontproxy: CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "qual-front-proxy-ca"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(validity),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("frontproxy: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("frontproxy: CA certificate: %w", err)
	}
	clientKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("frontproxy: client key: %w", err)
	}
	clientTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ClientName},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(validity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	clientDER, err := x509.CreateCertificate(rand.Reader, clientTmpl, ca, clientKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("frontproxy: client certificate: %w", err)
	}
	paths := map[string]string{"ca": filepath.Join(dir, "front-proxy-ca.crt"),
		"cert": filepath.Join(dir, "front-proxy-client.crt"), "key": filepath.Join(dir, "front-proxy-client.key")}
	if err := writePEM(paths["ca"], "CERTIFICATE", caDER); err != nil {
		return nil, err
	}
	if err := writePEM(paths["cert"], "CERTIFICATE", clientDER); err != nil {
		return nil, err
	}
	if err := writeKey(paths["key"], clientKey); err != nil {
		return nil, err
	}
	return map[string]string{
		"requestheader-client-ca-file":       paths["ca"],
		"requestheader-allowed-names":        ClientName,
		"requestheader-username-headers":     "X-Remote-User",
		"requestheader-group-headers":        "X-Remote-Group",
		"requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"proxy-client-cert-file":             paths["cert"],
		"proxy-client-key-file":              paths["key"],
	}, nil
}

func writeKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("frontproxy: encode key: %w", err)
	}
	return writePEM(path, "PRIVATE KEY", der)
}

func writePEM(path, typ string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("frontproxy: write %s: %w", path, err)
	}
	return nil
}
