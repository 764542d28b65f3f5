// Package kubetest runs a real kube-apiserver and etcd for integration tests,
// through controller-runtime's envtest, on 127.0.0.1 and free ports.
//
// kube-apiserver is built from the published k8s.io/kubernetes module by
// test/install-kube.sh into a cache directory keyed by its version; etcd is
// Debian's etcd-server. Where either is absent a test skips with the command
// that installs it, unless CI is set: then it fails, because `make test`
// installs both.
package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/genops-mesh/otelcol-genops/test/peers"
)

// Cluster is a running control plane.
type Cluster struct {
	Config *rest.Config
	Client kubernetes.Interface
	// Kubeconfig is a kubeconfig file for Config, for components that are
	// configured with a path (the collector, genopsctl).
	Kubeconfig string
}

// Start runs kube-apiserver and etcd until the test ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	apiServer, etcd, err := Binaries()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	// envtest logs through controller-runtime's global logger; the test's
	// failures carry what matters.
	ctrllog.SetLogger(logr.Discard())
	env := &envtest.Environment{}
	env.ControlPlane.GetAPIServer().Path = apiServer
	env.ControlPlane.Etcd = &envtest.Etcd{Path: etcd}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("envtest: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("envtest stop: %v", err)
		}
	})
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	return &Cluster{Config: cfg, Client: client, Kubeconfig: kubeconfig}
}

// Binaries finds kube-apiserver (KUBEBUILDER_ASSETS, else the cache
// directory test/install-kube.sh fills) and etcd (PATH, else
// KUBEBUILDER_ASSETS).
func Binaries() (apiServer, etcd string, err error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		apiServer = filepath.Join(dir, "kube-apiserver")
		etcd = filepath.Join(dir, "etcd")
	} else {
		if apiServer, err = peers.Binary("kube", "k8s.io/kubernetes", "kube-apiserver", "kube-apiserver"); err != nil {
			return "", "", err
		}
	}
	if _, err := os.Stat(apiServer); err != nil {
		return "", "", fmt.Errorf("kube-apiserver not found at %s: run test/install-kube.sh (make test does)", apiServer)
	}
	if etcd == "" {
		if etcd, err = exec.LookPath("etcd"); err != nil {
			return "", "", errors.New("etcd not found on PATH: install Debian's etcd-server (test/install-deps.sh does)")
		}
	}
	if _, err := os.Stat(etcd); err != nil {
		return "", "", fmt.Errorf("etcd not found at %s", etcd)
	}
	return apiServer, etcd, nil
}

// RunningPod creates a pod and writes the status a kubelet would once it
// runs (there is no kubelet here): phase Running, Ready, with ip as its IP.
func (c *Cluster) RunningPod(t testing.TB, pod *corev1.Pod, ip string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	if len(pod.Spec.Containers) == 0 {
		pod.Spec.Containers = []corev1.Container{{Name: "app", Image: "app:1"}}
	}
	created, err := c.Client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	updated, err := c.Client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return updated
}
