package api

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// router finds the spec's operation for a method and an escaped path (the
// base path stripped) as kin-openapi's gorillamux router does: the paths
// in the same order (fewer parameters first, see
// openapi3.Paths.InMatchingOrder), each matching the same way (a literal
// segment equal, a parameter any segment that is not empty, still
// escaped), the first that matches deciding (a 405 if it lacks the
// method); but by comparing the path's segments instead of running a
// regular expression per path: finding the route was 60% of validating a
// request. Its routes are made once; a caller must not change them.
type router struct {
	paths []routePath
}

type routePath struct {
	// segments are the path's, "" standing for a parameter.
	segments []string
	// params name the parameters, in order.
	params []string
	// routes are the path's operations by method.
	routes map[string]*routers.Route
}

func newRouter(doc *openapi3.T) (*router, error) {
	var r router
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		p := routePath{routes: map[string]*routers.Route{}}
		for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
			if name, ok := strings.CutSuffix(strings.TrimPrefix(seg, "{"), "}"); ok && strings.HasPrefix(seg, "{") &&
				name != "" && !strings.ContainsAny(name, "{}") {
				p.segments, p.params = append(p.segments, ""), append(p.params, name)
				continue
			}
			if seg == "" || strings.ContainsAny(seg, "{}") {
				return nil, fmt.Errorf("api: path %q: a segment is empty or only part of it is a parameter", path)
			}
			p.segments = append(p.segments, seg)
		}
		for method, op := range item.Operations() {
			p.routes[method] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
		r.paths = append(r.paths, p)
	}
	return &r, nil
}

// find returns the route of method at path and the path's parameters, or
// an error wrapping routers.ErrPathNotFound or, when the path is served
// for other methods only, routers.ErrMethodNotAllowed.
func (r *router) find(method, path string) (*routers.Route, map[string]string, error) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return nil, nil, routers.ErrPathNotFound
	}
	n := strings.Count(rest, "/") + 1
	for i := range r.paths {
		p := &r.paths[i]
		if len(p.segments) != n || !p.match(rest) {
			continue
		}
		route := p.routes[method]
		if route == nil {
			return nil, nil, routers.ErrMethodNotAllowed
		}
		var params map[string]string
		if len(p.params) > 0 {
			params = make(map[string]string, len(p.params))
			k := 0
			for j, seg := range strings.Split(rest, "/") {
				if p.segments[j] == "" {
					params[p.params[k]] = seg
					k++
				}
			}
		}
		return route, params, nil
	}
	return nil, nil, routers.ErrPathNotFound
}

// match reports whether rest (the path without its leading slash, with
// as many segments as p) is p's.
func (p *routePath) match(rest string) bool {
	for _, want := range p.segments {
		seg, after, _ := strings.Cut(rest, "/")
		if seg == "" || (want != "" && seg != want) {
			return false
		}
		rest = after
	}
	return true
}

// methods lists the methods served at (escaped) path, for the Allow
// header of a 405.
func (r *router) methods(path string) []string {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if _, _, err := r.find(m, path); err == nil {
			allow = append(allow, m)
		}
	}
	return allow
}
