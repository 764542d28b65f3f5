package kubetest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The control plane is real: a namespace written through the client is read
// back from etcd.
func TestStart(t *testing.T) {
	c := Start(t)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "genops-kubetest", Labels: map[string]string{"genops.ai/team": "ml-platform"}}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Client.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels["genops.ai/team"] != "ml-platform" || got.UID == "" {
		t.Fatalf("namespace read back as %+v", got.ObjectMeta)
	}
}
