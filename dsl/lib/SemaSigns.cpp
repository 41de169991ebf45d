//===- SemaSigns.cpp - Dale's law: signed populations and their weights ---===//
//
// A population (`{ excitatory }` in its block) or a group (`group E =
// P[0:80] excitatory`) may fix the sign of its neurons' outgoing weights.
// Sema collects those neurons, refuses a neuron declared both ways, and
// gives every projection leaving signed neurons the ranges that concern it
// and the weight they fix: the synapse's per-synapse variable `w`
// (docs/semantics.md, "Dale's law").
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <algorithm>

using namespace ncl;
using namespace ncl::ast;
using namespace ncl::sema;

namespace {
const char *signWord(int sign) { return sign > 0 ? "excitatory" : "inhibitory"; }
} // namespace

void Sema::checkSigns(const NetworkDecl &net, const NetworkModel &model) {
  signedNeurons.clear();
  auto add = [&](const SignDecl &decl, const std::string &owner, const char *ownerKind,
                 int population, SignedRange range) {
    if (decl.word != "excitatory" && decl.word != "inhibitory") {
      std::string suggestion = didYouMean(decl.word, {"excitatory", "inhibitory"});
      diags.error(decl.loc,
                  "unknown " + std::string(ownerKind) + " item '" + decl.word + "'" +
                      (suggestion.empty() ? "; a bare word in a " + std::string(ownerKind) +
                                                " declaration is the sign of its outgoing weights, "
                                                "'excitatory' or 'inhibitory'"
                                          : suggestion));
      return;
    }
    range.sign = decl.word == "excitatory" ? 1 : -1;
    for (const SignedNeurons &other : signedNeurons) {
      if (other.population != population || other.range.sign == range.sign ||
          !other.range.overlaps(range.begin, range.end < 0 ? INT64_MAX : range.end))
        continue;
      diags.error(decl.loc, "'" + owner + "' is declared " + decl.word +
                                ", but some of its neurons are in '" + other.name + "', declared " +
                                signWord(other.range.sign) +
                                "; a neuron's outgoing weights have one sign (Dale's law)");
      diags.note(other.loc,
                 "'" + other.name + "' is declared " + signWord(other.range.sign) + " here");
      return;
    }
    signedNeurons.push_back({population, range, owner, decl.loc});
  };
  for (const PopulationDecl &pop : net.populations) {
    for (size_t k = 1; k < pop.signs.size(); ++k) {
      diags.error(pop.signs[k].loc, "population '" + pop.name + "' declares its sign twice");
      diags.note(pop.signs[0].loc, "the first is here");
    }
    auto pm = std::find_if(model.populations.begin(), model.populations.end(),
                           [&](const PopulationModel &m) { return m.decl == &pop; });
    if (pop.signs.empty() || pm == model.populations.end())
      continue;
    add(pop.signs[0], pop.name, "population", static_cast<int>(pm - model.populations.begin()),
        SignedRange{0, -1, 1});
  }
  for (const GroupDecl &g : net.groups) {
    auto range = groupRanges.find(g.name);
    if (!g.sign || range == groupRanges.end())
      continue;
    add(*g.sign, g.name, "group", range->second.population,
        SignedRange{range->second.begin, range->second.end, 1});
  }
}

/// The signed ranges of the projection's source, and its weight `w`, which
/// must be a per-synapse variable of the synapse.
bool Sema::checkWeightSign(const ProjectionDecl &p, ProjectionModel &pm) {
  const SignedNeurons *first = nullptr;
  for (const SignedNeurons &s : signedNeurons) {
    if (s.population != pm.pre || !s.range.overlaps(pm.preBegin, pm.preEnd))
      continue;
    pm.signedRanges.push_back(s.range);
    if (!first)
      first = &s;
  }
  if (!first)
    return true;
  const SynapseDecl &syn = *pm.synapse;
  auto named = [](const std::vector<Declaration> &decls) {
    return std::any_of(decls.begin(), decls.end(),
                       [](const Declaration &d) { return d.name == "w"; });
  };
  if (named(syn.state)) {
    pm.weight = "w";
    return true;
  }
  std::string source = "'" + first->name + "', declared " + signWord(first->range.sign);
  diags.error(p.loc, "projection '" + p.name + "' leaves " + source + ", but synapse '" + syn.name +
                         (named(syn.parameters)
                              ? "' has 'w' as a shared parameter; Dale's law keeps the sign "
                                "of a per-synapse weight: declare 'w' in the synapse's 'state'"
                              : "' has no per-synapse weight 'w' whose sign Dale's law could "
                                "keep; declare the weight as 'w' in the synapse's 'state'"));
  diags.note(first->loc, "the sign is declared here");
  return false;
}
