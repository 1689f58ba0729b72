-- Argo CD health of a LiveStream (media.livestream.io/v1alpha1), read from the operator's status.
--   being deleted, or a generation the operator has not observed yet  -> Progressing
--   Degraded=True (an AWS refusal, an invalid spec, a private page)    -> Degraded, its message
--   Progressing=True (AWS creating, starting, stopping, updating)      -> Progressing, its message
--   Ready=True and Stopped=True (the channel is not running, as asked) -> Suspended
--   Ready=True, running, InputConnected=False (billed, no encoder)      -> Degraded, its message
--   Ready=True, running, Redundant=False (on one leg, still on air)    -> Degraded, its message
--   Ready=True and the channel running                                 -> Healthy
local hs = { status = "Progressing", message = "Waiting for the operator to observe this LiveStream" }
if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Being deleted: the channel is stopped and its AWS resources removed first"
  return hs
end
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end
local conditions = {}
for _, condition in ipairs(obj.status.conditions) do
  conditions[condition.type] = condition
end
local function holds(kind)
  return conditions[kind] ~= nil and conditions[kind].status == "True"
end
local function said(kind, otherwise)
  local message = conditions[kind] and conditions[kind].message
  if message == nil or message == "" then
    return otherwise
  end
  return message
end
if holds("Degraded") then
  hs.status = "Degraded"
  hs.message = said("Degraded", "Degraded")
elseif holds("Progressing") then
  hs.message = said("Progressing", "AWS is carrying out a change")
elseif holds("Ready") and holds("Stopped") then
  hs.status = "Suspended"
  hs.message = "The channel is not running: " .. said("Stopped", "stopped")
elseif holds("Ready") and conditions["InputConnected"] ~= nil and conditions["InputConnected"].status == "False" then
  hs.status = "Degraded"
  hs.message = "No input: " .. said("InputConnected", "no encoder is pushing to the running channel")
elseif holds("Ready") and conditions["Redundant"] ~= nil and conditions["Redundant"].status == "False" then
  hs.status = "Degraded"
  hs.message = "On air on one leg: " .. said("Redundant", "a pipeline or the primary input is down")
elseif holds("Ready") then
  hs.status = "Healthy"
  hs.message = said("Ready", "Live")
else
  hs.message = said("Ready", hs.message)
end
return hs
