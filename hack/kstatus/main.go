// kstatus prints the kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status) of one live object as a
// JSON line {"status":"Current|InProgress|Failed|Terminating|NotFound|Unknown","message":"..."}.
//
//	kstatus --kubeconfig FILE [--namespace NS] --resource RESOURCE.VERSION.GROUP NAME
//
// e.g. --resource livestreams.v1alpha1.media.livestream.io. Exit 0 whenever a status was computed
// (NotFound included); non-zero only when the call itself failed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file")
	namespace := flag.String("namespace", "default", "namespace (empty for a cluster-scoped resource)")
	resource := flag.String("resource", "", "RESOURCE.VERSION.GROUP, e.g. livestreams.v1alpha1.media.livestream.io")
	flag.Parse()
	if flag.NArg() != 1 || *resource == "" {
		fail(fmt.Errorf("usage: kstatus --kubeconfig FILE --namespace NS --resource RESOURCE.VERSION.GROUP NAME"))
	}
	gvr, _ := schema.ParseResourceArg(*resource)
	if gvr == nil {
		fail(fmt.Errorf("--resource %q: want RESOURCE.VERSION.GROUP", *resource))
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fail(err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		fail(err)
	}
	obj, err := client.Resource(*gvr).Namespace(*namespace).Get(context.Background(), flag.Arg(0), metav1.GetOptions{})
	// A 404 names the object only when its type exists (an unknown resource type is an error).
	if se, ok := err.(apierrors.APIStatus); ok && apierrors.IsNotFound(err) && se.Status().Details != nil && se.Status().Details.Name == flag.Arg(0) {
		emit(status.NotFoundStatus, "Resource not found")
		return
	}
	if err != nil {
		fail(err)
	}
	result, err := status.Compute(obj)
	if err != nil {
		fail(err)
	}
	emit(result.Status, result.Message)
}

func emit(s status.Status, message string) {
	line, _ := json.Marshal(struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}{s.String(), message})
	fmt.Println(string(line))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", strings.TrimSpace(err.Error()))
	os.Exit(1)
}
