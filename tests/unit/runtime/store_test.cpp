// The projection cache: what a projection keeps, lookups, and the label
// index staying right through updates and deletes.
#include "runtime/store.h"

#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/object_key.h"
#include "runtime/scripted_list_watcher.h"

namespace runtime_test {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr const char* kSetLabel = "electric-operator.dev/shard-set";

std::vector<std::string> names(const std::vector<runtime::Projection>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o->meta.key());
  return out;
}

json child(const std::string& ns, const std::string& name, const std::string& set,
           const std::string& rv = "1") {
  return object(ns, name, rv, {{kSetLabel, set}, {"app", "electric"}},
                {{"spec", {{"replicas", 2}, {"template", {{"big", std::string(1000, 'x')}}}}},
                 {"status", {{"readyReplicas", 1}}},
                 {"metadata", {{"annotations", {{"huge", std::string(1000, 'y')}}},
                               {"managedFields", json::array({{{"manager", "x"}}})},
                               {"ownerReferences", json::array({{{"kind", "ElectricShardSet"},
                                                                 {"name", set},
                                                                 {"controller", true}}})},
                               {"generation", 3}}}});
}

TEST(ProjectFields, KeepsOnlyTheGivenPointersAndSkipsAbsentOnes) {
  json full = child("ns", "a", "s1");
  json p = runtime::project_fields(
      full, {"/metadata/name", "/spec/replicas", "/status/readyReplicas", "/spec/missing"});
  EXPECT_EQ(p, json({{"metadata", {{"name", "a"}}},
                     {"spec", {{"replicas", 2}}},
                     {"status", {{"readyReplicas", 1}}}}));
}

TEST(ProjectFields, ArrayElementsAndMalformedPointers) {
  json full = {{"spec", {{"containers", json::array({{{"image", "a:1"}}, {{"image", "b:2"}}})}}}};
  json p = runtime::project_fields(full, {"/spec/containers/1/image"});
  EXPECT_EQ(p["spec"]["containers"][1]["image"], "b:2");
  EXPECT_THROW(runtime::project_fields(full, {"no-leading-slash"}), json::exception);
}

TEST(FieldsProjector, KeepsStandardMetadataAndDropsTheBulk) {
  runtime::Projector project = runtime::fields_projector({"/spec/replicas"});
  json p = runtime::json_of(project(child("ns", "a", "s1", "42")));
  EXPECT_EQ(p["metadata"]["name"], "a");
  EXPECT_EQ(p["metadata"]["namespace"], "ns");
  EXPECT_EQ(p["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(p["metadata"]["uid"], "uid-a");
  EXPECT_EQ(p["metadata"]["generation"], 3);
  EXPECT_EQ(p["metadata"]["labels"][kSetLabel], "s1");
  EXPECT_EQ(p["metadata"]["ownerReferences"][0]["name"], "s1");
  EXPECT_EQ(p["spec"], json({{"replicas", 2}}));
  EXPECT_FALSE(p["metadata"].contains("annotations"));
  EXPECT_FALSE(p["metadata"].contains("managedFields"));
  EXPECT_FALSE(p.contains("status"));
  EXPECT_LT(p.dump().size(), 400u);
}

TEST(Store, UpsertGetListAndRemove) {
  runtime::Store store(runtime::fields_projector({"/spec/replicas"}));
  EXPECT_FALSE(store.synced());
  runtime::Store::Change added = store.upsert("ns/a", child("ns", "a", "s1", "1"));
  EXPECT_EQ(added.old_object, nullptr);
  ASSERT_NE(added.new_object, nullptr);
  store.upsert("ns/b", child("ns", "b", "s1"));
  store.upsert("other/c", child("other", "c", "s2"));
  store.upsert("cluster-wide", object("", "cluster-wide", "1"));

  runtime::Store::Change updated = store.upsert("ns/a", child("ns", "a", "s1", "2"));
  EXPECT_EQ(updated.old_object, added.new_object);
  EXPECT_EQ(runtime::json_of(added.new_object)["metadata"]["resourceVersion"], "1")
      << "a projection handed out stays as it was";
  EXPECT_EQ(store.get("ns", "a")->meta.resource_version, "2");
  EXPECT_EQ(store.get("ns/a"), store.get("ns", "a"));
  EXPECT_NE(store.get("", "cluster-wide"), nullptr);
  EXPECT_EQ(store.get("ns", "missing"), nullptr);

  EXPECT_EQ(store.size(), 4u);
  EXPECT_THAT(names(store.list("ns")), ElementsAre("ns/a", "ns/b"));
  EXPECT_THAT(names(store.list("n")), ElementsAre()) << "a namespace is not a prefix match";
  EXPECT_EQ(store.list().size(), 4u);

  runtime::Store::Change removed = store.remove("ns/a");
  EXPECT_EQ(removed.old_object, updated.new_object);
  EXPECT_EQ(removed.new_object, nullptr);
  EXPECT_EQ(store.remove("ns/a").old_object, nullptr);
  EXPECT_THAT(store.keys(), ElementsAre("cluster-wide", "ns/b", "other/c"));

  store.mark_synced();
  EXPECT_TRUE(store.synced());
}

TEST(Store, NoProjectorKeepsWholeObjects) {
  runtime::Store store;
  json full = child("ns", "a", "s1");
  store.upsert("ns/a", full);
  EXPECT_EQ(runtime::json_of(store.get("ns/a")), full);
}

TEST(Store, LabelIndexFollowsUpdatesAndDeletes) {
  runtime::Store store(runtime::fields_projector({}), {kSetLabel});
  store.upsert("ns/a", child("ns", "a", "s1"));
  store.upsert("ns/b", child("ns", "b", "s1"));
  store.upsert("other/c", child("other", "c", "s1"));
  store.upsert("ns/d", child("ns", "d", "s2"));

  EXPECT_THAT(names(store.list_by_label(kSetLabel, "s1", "ns")), ElementsAre("ns/a", "ns/b"));
  EXPECT_THAT(names(store.list_by_label(kSetLabel, "s1")),
              UnorderedElementsAre("ns/a", "ns/b", "other/c"));

  // b moves to another set, d loses its label, a is deleted.
  store.upsert("ns/b", child("ns", "b", "s2", "2"));
  store.upsert("ns/d", object("ns", "d", "3"));
  store.remove("ns/a");

  EXPECT_THAT(names(store.list_by_label(kSetLabel, "s1", "ns")), ElementsAre());
  EXPECT_THAT(names(store.list_by_label(kSetLabel, "s2", "ns")), ElementsAre("ns/b"));
  EXPECT_THAT(names(store.list_by_label(kSetLabel, "s1")), ElementsAre("other/c"));
  EXPECT_THAT(names(store.list_by_label(kSetLabel, "nothing")), ElementsAre());
}

TEST(Store, LabelIndexDoesNotNeedTheProjectionToKeepLabels) {
  runtime::Store store(
      [](const json& o) {
        return runtime::json_projection(runtime::project_fields(o, {"/metadata/name", "/metadata/namespace"}));
      },
      {kSetLabel});
  store.upsert("ns/a", child("ns", "a", "s1"));
  EXPECT_THAT(names(store.list_by_label(kSetLabel, "s1")), ElementsAre("ns/a"));
  store.remove("ns/a");
  EXPECT_THAT(names(store.list_by_label(kSetLabel, "s1")), ElementsAre());
}

TEST(ObjectMeta, KeepsIdentityOwnersAndOnlyTheLabelsAskedFor) {
  json full = child("ns", "a", "s1", "7");
  full["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  full["metadata"]["ownerReferences"][0]["uid"] = "uid-s1";
  const runtime::ObjectMeta meta = runtime::object_meta(full, {kSetLabel});
  EXPECT_EQ(meta.key(), "ns/a");
  EXPECT_EQ(meta.uid, "uid-a");
  EXPECT_EQ(meta.resource_version, "7");
  EXPECT_EQ(meta.generation, 3);
  EXPECT_TRUE(meta.being_deleted);
  ASSERT_NE(meta.label(kSetLabel), nullptr);
  EXPECT_EQ(*meta.label(kSetLabel), "s1");
  EXPECT_EQ(meta.label("app"), nullptr) << "not asked for";
  EXPECT_TRUE(meta.owned_by("uid-s1"));
  EXPECT_FALSE(meta.owned_by("uid-other"));
  ASSERT_EQ(meta.owners.size(), 1u);
  EXPECT_EQ(meta.owners[0].kind, "ElectricShardSet");
  EXPECT_TRUE(meta.owners[0].controller);

  EXPECT_EQ(runtime::object_meta(full, nullptr).labels.size(), 2u) << "null keeps every label";
  EXPECT_EQ(runtime::object_meta(json::object(), nullptr).key(), "") << "no metadata: empty, not a throw";
}

struct CachedReplicas : runtime::Cached {
  int64_t replicas = 0;
};

TEST(Store, TypedProjectionsAreReadAsTheirKindAndJsonOfRefusesThem) {
  runtime::Store store(
      [](const json& o) {
        auto p = std::make_shared<CachedReplicas>();
        p->meta = runtime::object_meta(o, {kSetLabel});
        p->replicas = o["spec"].value("replicas", 0);
        return p;
      },
      {kSetLabel});
  store.upsert("ns/a", child("ns", "a", "s1"));
  const runtime::Projection cached = store.get("ns/a");
  ASSERT_NE(runtime::as<CachedReplicas>(cached), nullptr);
  EXPECT_EQ(runtime::as<CachedReplicas>(cached)->replicas, 2);
  EXPECT_EQ(runtime::as<runtime::JsonProjection>(cached), nullptr);
  EXPECT_THROW(runtime::json_of(cached), std::logic_error);
  EXPECT_THAT(names(store.list_by_label(kSetLabel, "s1")), ElementsAre("ns/a"));
}

TEST(Store, AskingForAnUnindexedLabelIsAProgrammerError) {
  runtime::Store store;
  EXPECT_THROW(store.list_by_label("app", "electric"), std::logic_error);
}

TEST(ObjectKey, NamespacedAndClusterScoped) {
  EXPECT_EQ(runtime::object_key("ns", "a"), "ns/a");
  EXPECT_EQ(runtime::object_key("", "a"), "a");
  EXPECT_EQ(runtime::object_key(object("ns", "a", "1")), "ns/a");
  EXPECT_EQ(runtime::object_key(json::object()), "");
  EXPECT_EQ(runtime::split_key("ns/a"), std::make_pair(std::string("ns"), std::string("a")));
  EXPECT_EQ(runtime::split_key("a"), std::make_pair(std::string(), std::string("a")));
}

}  // namespace
}  // namespace runtime_test
