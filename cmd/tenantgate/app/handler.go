package app

import toolscache "k8s.io/client-go/tools/cache"

// toolsHandler calls f on every add, update and delete.
func toolsHandler(f func()) toolscache.ResourceEventHandlerFuncs {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { f() },
		UpdateFunc: func(any, any) { f() },
		DeleteFunc: func(any) { f() },
	}
}
