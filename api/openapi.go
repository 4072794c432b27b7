package api

import (
	"bytes"
	"context"
)

func (s *server) GetOpenAPI(context.Context, GetOpenAPIRequestObject) (GetOpenAPIResponseObject, error) {
	return GetOpenAPI200ApplicationyamlResponse{Body: bytes.NewReader(s.spec.yaml), ContentLength: int64(len(s.spec.yaml))}, nil
}
