-- Argo CD health check for electric-operator.dev/ElectricShardSet.
-- Install it under the argocd-cm key
--   resource.customizations.health.electric-operator.dev_ElectricShardSet
-- (see README.md beside this file). Written for Lua 5.1, which Argo CD embeds.
--
-- Health comes from the operator's conditions, never from a phase string:
-- a status older than the spec (observedGeneration behind generation) says
-- nothing about the current spec, so it reads as Progressing until the
-- operator catches up; then Degraded=True wins, then Paused=True (Suspended),
-- then Ready=True (Healthy); anything else is still Progressing.

local hs = {}

local function condition(conditions, type_name)
  for _, c in ipairs(conditions) do
    if c.type == type_name then
      return c
    end
  end
  return nil
end

-- A condition stamped with an older generation than the object's is stale.
local function is_current(c, generation)
  return generation == nil or c.observedGeneration == nil or c.observedGeneration >= generation
end

local function describe(c, fallback)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local status = obj.status

if status == nil or status.conditions == nil or #status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local conditions = status.conditions
local ready = condition(conditions, "Ready")
local progressing = condition(conditions, "Progressing")
local degraded = condition(conditions, "Degraded")
local paused = condition(conditions, "Paused")

if degraded ~= nil and degraded.status == "True" and is_current(degraded, generation) then
  hs.status = "Degraded"
  hs.message = describe(degraded, "Degraded")
  return hs
end

if paused ~= nil and paused.status == "True" and is_current(paused, generation) then
  hs.status = "Suspended"
  hs.message = describe(paused, "Paused: the operator makes no changes")
  return hs
end

if ready ~= nil and ready.status == "True" and is_current(ready, generation) then
  hs.status = "Healthy"
  hs.message = describe(ready, "All shards ready")
  return hs
end

hs.status = "Progressing"
if progressing ~= nil and progressing.status == "True" and is_current(progressing, generation) then
  hs.message = describe(progressing, "Rolling out")
elseif ready ~= nil then
  hs.message = describe(ready, "Waiting for shards to become ready")
else
  hs.message = "Waiting for the Ready condition"
end
return hs
