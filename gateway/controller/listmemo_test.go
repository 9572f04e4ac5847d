package controller

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
)

// countingReader lists its Services and counts the Lists.
type countingReader struct {
	client.Reader
	services []corev1.Service
	lists    int
	fail     error
}

func (c *countingReader) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	c.lists++
	if c.fail != nil {
		return c.fail
	}
	switch l := list.(type) {
	case *corev1.ServiceList:
		l.Items = append([]corev1.Service(nil), c.services...)
	case *corev1.NamespaceList:
		l.Items = []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}}
	}
	return nil
}

// TestListMemoListsAgainAfterAnEventOnly: the snapshot's List of a kind is
// reused until an event of that kind is counted; a kind whose events no
// handler counts, and a List that failed, are listed every time.
func TestListMemoListsAgainAfterAnEventOnly(t *testing.T) {
	ctx := context.Background()
	r := &countingReader{services: []corev1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "one"}}}}
	m := newListMemo()
	events := m.counted(&corev1.Service{}, handler.Funcs{})
	names := func() []string {
		t.Helper()
		var l corev1.ServiceList
		if err := m.list(ctx, r, &l, &corev1.Service{}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range l.Items {
			out = append(out, s.Name)
		}
		return out
	}
	if got := names(); len(got) != 1 || r.lists != 1 {
		t.Fatalf("first snapshot: %v after %d Lists; want [one] after 1", got, r.lists)
	}
	r.services = append(r.services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "two"}})
	if got := names(); len(got) != 1 || r.lists != 1 {
		t.Fatalf("no event: %v after %d Lists; want the kept [one] and no List", got, r.lists)
	}
	for i, send := range []func(){
		func() { events.Create(ctx, event.CreateEvent{Object: &r.services[1]}, nil) },
		func() {
			events.Update(ctx, event.UpdateEvent{ObjectOld: &r.services[1], ObjectNew: &r.services[1]}, nil)
		},
		func() { events.Delete(ctx, event.DeleteEvent{Object: &r.services[1]}, nil) },
		func() { events.Generic(ctx, event.GenericEvent{Object: &r.services[1]}, nil) },
	} {
		send()
		if got := names(); len(got) != 2 || r.lists != 2+i {
			t.Fatalf("event %d: %v after %d Lists; want [one two] listed anew", i, got, r.lists)
		}
		if names(); r.lists != 2+i {
			t.Fatalf("event %d: listed again with no new event", i)
		}
	}

	var ns corev1.NamespaceList
	for range 2 {
		if err := m.list(ctx, r, &ns, &corev1.Namespace{}); err != nil {
			t.Fatal(err)
		}
	}
	if r.lists != 7 {
		t.Fatalf("a kind no handler counts was listed %d times in 2 snapshots", r.lists-5)
	}

	r.fail = errors.New("cache not synced")
	events.Create(ctx, event.CreateEvent{Object: &r.services[0]}, nil)
	var l corev1.ServiceList
	if err := m.list(ctx, r, &l, &corev1.Service{}); err == nil {
		t.Fatal("a failed List reported no error")
	}
	r.fail = nil
	if got := names(); len(got) != 2 || r.lists != 9 {
		t.Fatalf("after a failed List: %v after %d Lists; want [one two] listed anew", got, r.lists)
	}
	var nilMemo *listMemo
	if err := nilMemo.list(ctx, r, &l, &corev1.Service{}); err != nil || r.lists != 10 || len(l.Items) != 2 {
		t.Fatalf("a nil memo: %d Lists, %d Services, error %v; want a List", r.lists, len(l.Items), err)
	}
}
