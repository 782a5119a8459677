#include <gtest/gtest.h>

#include "kube/resource.h"
#include "kube/result.h"

namespace kube {
namespace {

TEST(Paths, CoreNamespacedCollectionAndObject) {
  EXPECT_EQ(collection_path(kConfigMaps, "prod"), "/api/v1/namespaces/prod/configmaps");
  EXPECT_EQ(object_path(kConfigMaps, "prod", "routing"),
            "/api/v1/namespaces/prod/configmaps/routing");
}

TEST(Paths, GroupResources) {
  EXPECT_EQ(collection_path(kDeployments, "prod"), "/apis/apps/v1/namespaces/prod/deployments");
  EXPECT_EQ(object_path(kLeases, "ops", "electric-operator"),
            "/apis/coordination.k8s.io/v1/namespaces/ops/leases/electric-operator");
}

TEST(Paths, AllNamespacesWhenNamespaceIsEmpty) {
  EXPECT_EQ(collection_path(kDeployments, ""), "/apis/apps/v1/deployments");
  EXPECT_EQ(collection_path(kSecrets, ""), "/api/v1/secrets");
}

TEST(Paths, ClusterScopedIgnoresTheNamespace) {
  EXPECT_EQ(collection_path(kNamespaces, "ignored"), "/api/v1/namespaces");
  EXPECT_EQ(object_path(kNamespaces, "", "prod"), "/api/v1/namespaces/prod");
  const Resource crds{"apiextensions.k8s.io/v1", "customresourcedefinitions",
                      "CustomResourceDefinition", false};
  EXPECT_EQ(object_path(crds, "x", "electricshardsets.electric-sql.com"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
            "electricshardsets.electric-sql.com");
}

TEST(Paths, Subresource) {
  const Resource shard_sets{"electric-sql.com/v1alpha1", "electricshardsets",
                            "ElectricShardSet", true};
  EXPECT_EQ(object_path(shard_sets, "prod", "main", "status"),
            "/apis/electric-sql.com/v1alpha1/namespaces/prod/electricshardsets/main/status");
  EXPECT_EQ(object_path(kDeployments, "prod", "web", "scale"),
            "/apis/apps/v1/namespaces/prod/deployments/web/scale");
}

TEST(Resources, OneDefinitionEach) {
  EXPECT_EQ(kConfigMaps.kind, "ConfigMap");
  EXPECT_EQ(kSecrets.plural, "secrets");
  EXPECT_EQ(kServices.api_version, "v1");
  EXPECT_EQ(kPersistentVolumeClaims.plural, "persistentvolumeclaims");
  EXPECT_EQ(kEvents.api_version, "v1");
  EXPECT_FALSE(kNamespaces.namespaced);
  EXPECT_EQ(kDeployments.api_version, "apps/v1");
  EXPECT_EQ(kLeases.api_version, "coordination.k8s.io/v1");
  EXPECT_EQ(kLeases.kind, "Lease");
}

TEST(UrlEncode, KeepsUnreservedCharacters) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
}

TEST(UrlEncode, EncodesSelectorsAndTokens) {
  EXPECT_EQ(url_encode("app.kubernetes.io/managed-by=electric-operator"),
            "app.kubernetes.io%2Fmanaged-by%3Delectric-operator");
  EXPECT_EQ(url_encode("tier in (a,b),!legacy"), "tier%20in%20%28a%2Cb%29%2C%21legacy");
  EXPECT_EQ(url_encode("a+b&c=d?e#f%"), "a%2Bb%26c%3Dd%3Fe%23f%25");
  EXPECT_EQ(url_encode(""), "");
}

TEST(UrlEncode, EncodesBytesAboveAsciiAsUppercaseHex) {
  EXPECT_EQ(url_encode("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(url_encode(std::string("\0", 1)), "%00");
}

TEST(Error, DescribeReadsLikeALogLine) {
  Error forbidden{403, "Forbidden", "configmaps is forbidden: no"};
  EXPECT_EQ(forbidden.describe(), "403 Forbidden: configmaps is forbidden: no");
  Error transport{0, "TransportError", "connection refused"};
  EXPECT_EQ(transport.describe(), "TransportError: connection refused");
  EXPECT_TRUE(transport.is_retryable());
  EXPECT_TRUE(Error(429, "TooManyRequests").is_retryable());
  EXPECT_TRUE(Error(503, "ServiceUnavailable").is_retryable());
  EXPECT_FALSE(Error(404, "NotFound").is_retryable());
  EXPECT_TRUE(Error(404, "NotFound").is_not_found());
  EXPECT_TRUE(Error(410, "Expired").is_gone());
}

TEST(Result, HoldsAValueOrAnError) {
  Result<int> value = 3;
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value.value(), 3);
  Result<int> error = Error{409, "Conflict", "x"};
  ASSERT_FALSE(error);
  EXPECT_TRUE(error.error().is_conflict());
  Done done = ok();
  EXPECT_TRUE(done.ok());
}

}  // namespace
}  // namespace kube
