// Ncl.g4 - grammar of the NCL model language.
//
// Statements end at a newline or ';'. Newlines inside parentheses or
// brackets are ignored, so long expressions can be wrapped there. A number
// followed by a unit (`20 ms`, `2 mV/ms`, `1 uA/cm2`) is a quantity literal;
// the unit extends over '*' and '/' only while the next name is a unit. The parse tree never leaves dsl/: AstBuilder turns it
// into the owned AST at once.
grammar Ncl;

@lexer::members {
  int nestingDepth = 0;
  /// Deeper parentheses and brackets stop the lexer: the parser recurses
  /// (and recovers from errors) once per level, and the AST refuses
  /// expressions nested deeper than this anyway.
  static constexpr int kMaxNesting = 1000;
  /// Where the nesting limit was crossed (line 0: it was not).
  size_t tooDeepLine = 0, tooDeepColumn = 0;

  void enterNesting() {
    if (++nestingDepth > kMaxNesting && tooDeepLine == 0) {
      tooDeepLine = tokenStartLine;
      tooDeepColumn = tokenStartCharPositionInLine;
    }
  }

  /// After the limit, the rest of the input is not tokenised: the parser
  /// sees end of file at once.
  std::unique_ptr<antlr4::Token> nextToken() override {
    if (tooDeepLine != 0)
      _input->seek(_input->size());
    return antlr4::Lexer::nextToken();
  }
}

@parser::header {
#include "ncl/Support/Units.h"
}

@parser::members {
  /// The parser recurses once per nesting level (parentheses, unary
  /// operators, '**' and '?:' chains). Past this much stack it stops:
  /// such input is far beyond the 1000 levels the AST accepts anyway.
  static constexpr size_t kMaxStackBytes = size_t(64) << 20;
  /// The frame address where parsing started; set before calling file().
  uintptr_t stackBase = 0;
  /// Thrown (not a RecognitionException, so no rule catches it) when the
  /// parser's recursion passes kMaxStackBytes.
  struct NestingTooDeep {
    size_t line, column;
  };

  void enterRule(antlr4::ParserRuleContext *ctx, size_t state, size_t ruleIndex) override {
    checkStack();
    antlr4::Parser::enterRule(ctx, state, ruleIndex);
  }
  void enterRecursionRule(antlr4::ParserRuleContext *ctx, size_t state, size_t ruleIndex,
                          int precedence) override {
    checkStack();
    antlr4::Parser::enterRecursionRule(ctx, state, ruleIndex, precedence);
  }
  void checkStack() {
    uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    if (stackBase > here && stackBase - here > kMaxStackBytes) {
      antlr4::Token *at = getCurrentToken();
      throw NestingTooDeep{at->getLine(), at->getCharPositionInLine()};
    }
  }

  /// A unit after a number extends only over names that are units, so
  /// `10 Mohm * I` is (10 Mohm) * I while `2 mV/ms` is one quantity.
  bool unitAhead(size_t k) {
    antlr4::Token *t = _input->LT(k);
    // parseUnit also accepts a power glued to the name: cm2, um3.
    return t->getType() == ID && ncl::units::parseUnit(t->getText()).has_value();
  }
}

file        : sep? (topItem (sep topItem)*)? sep? EOF ;
topItem     : importDecl | neuronDecl | synapseDecl | networkDecl ;
importDecl  : 'import' STRING ;

neuronDecl  : 'neuron' ID NL* '{' sep? (neuronItem (sep neuronItem)*)? sep? '}' ;
neuronItem  : 'parameters' NL* '{' sep? (declaration (sep declaration)*)? sep? '}'   # parametersBlock
            | 'state' NL* '{' sep? (declaration (sep declaration)*)? sep? '}'        # stateBlock
            | 'input' ID (':' unit)? ('=' expr)?                                  # inputDecl
            | 'dynamics' NL* '{' sep? (dynamicsItem (sep dynamicsItem)*)? sep? '}' # dynamicsBlock
            | 'spike' 'when' expr                                                 # spikeDecl
            | 'reset' NL* '{' sep? (assignment (sep assignment)*)? sep? '}'       # resetBlock
            | 'update' NL* '{' sep? (updateItem (sep updateItem)*)? sep? '}'      # updateBlock
            | 'refractory' 'while' expr                                           # refractoryWhileDecl
            | 'refractory' expr                                                   # refractoryDecl
            | 'output' ID (':' unit)? '=' expr                                    # outputDecl
            | 'method' ID ('substeps' INT)?                                       # methodDecl
            | 'event' ID 'when' expr (NL* '{' sep? (assignment (sep assignment)*)? sep? '}')? # eventDecl
            ;
declaration : ID (':' unit)? '=' expr (PER 'neuron')? ;
dynamicsItem: odeDecl | declaration ;
odeDecl     : ID PRIME '=' expr (UNLESS REFRACTORY)? ;
assignment  : ID op=('=' | '+=' | '-=' | '*=' | '/=') expr ;
updateItem  : assignment (UNLESS REFRACTORY)? ;

// A synapse model: shared parameters, per-synapse state, and what happens
// when a presynaptic spike arrives (on_pre) or the postsynaptic neuron
// spikes (on_post), the values it sums into the postsynaptic neuron's
// inputs every step (summed), and ODEs of its state integrated every step
// (dynamics). Its names are resolved per projection (Sema).
synapseDecl : 'synapse' ID NL* '{' sep? (synapseItem (sep synapseItem)*)? sep? '}' ;
synapseItem : 'parameters' NL* '{' sep? (declaration (sep declaration)*)? sep? '}'   # synapseParametersBlock
            | 'state' NL* '{' sep? (declaration (sep declaration)*)? sep? '}'        # synapseStateBlock
            | 'on_pre' NL* '{' sep? (assignment (sep assignment)*)? sep? '}'       # onPreBlock
            | 'on_post' NL* '{' sep? (assignment (sep assignment)*)? sep? '}'      # onPostBlock
            | 'summed' NL* '{' sep? (assignment (sep assignment)*)? sep? '}'       # summedBlock
            | 'dynamics' NL* '{' sep? (odeDecl (sep odeDecl)*)? sep? '}'           # synapseDynamicsBlock
            ;

networkDecl : 'network' ID NL* '{' sep? (networkItem (sep networkItem)*)? sep? '}' ;
networkItem : 'population' ID '=' ID '[' INT ']' fileArgs? (NL* '{' sep? (populationItem (sep populationItem)*)? sep? '}')?  # populationDecl
            | 'group' ID '=' range sign=ID?                                       # groupDecl
            | 'projection' ID '=' ID '(' range '->' range ')' (NL* '{' sep? (projectionItem (sep projectionItem)*)? sep? '}')? # projectionDecl
            | 'record' 'spikes' '(' ID (',' ID)* ')'                             # recordDecl
            | 'record' ID '(' range ')' ('every' expr)?                          # recordVariableDecl
            | 'stimulus' ID '.' ID '+=' expr                                      # stimulusDecl
            | 'simulate' expr (',' ID '=' expr)*                                 # simulateDecl
            ;
// A bare word is the sign of the population's outgoing weights (Dale's law):
// `excitatory` or `inhibitory`, checked by Sema (the words are not reserved).
populationItem : declaration | 'method' ID ('substeps' INT)? | ID '=' ID fileArgs | kwtaDecl | sign=ID ;
// k-winners-take-all on a variable of the population: `kwta r keep 20`,
// `kwta r keep 2 %`, options `boost 2.0 period 1000`, and a `reset { ... }`
// for the losers. The words kwta, keep, boost and period are not reserved:
// Sema checks them.
kwtaDecl    : ID ID ID number PERCENT? (ID number)* ('reset' NL* '{' sep? (assignment (sep assignment)*)? sep? '}')? ;
// Files read at load time, then named values: `("t.npy", "i.npy")`,
// `("drive.npy", dt = 1 ms, scale = 1 nA)`.
fileArgs    : '(' STRING (',' STRING)* (',' connectArg)* ')' ;
// A population, a group, or neurons [begin, end) of either.
range       : ID ('[' INT ':' INT ']')? ;
projectionItem : declaration | connectRule | 'method' ID ;
// `connect rule(args)`, optionally `if condition` (a boolean expression of
// i, j, ...); arguments of from_npy are file names (strings).
connectRule : 'connect' ID '(' (connectArg (',' connectArg)*)? ')' ('if' expr)? ;
connectArg  : (ID '=')? (expr | STRING) ;

// The conditional, the loosest operator, sits outside the left-recursive
// rule: as an alternative there, its right associativity made every '?'
// a full-context prediction over the rest of the chain (quadratic time).
expr        : operation ('?' expr ':' expr)? ;
operation   : <assoc=right> operation '**' operation                              # powerExpr
            | op=('-' | '+') operation                                           # unaryExpr
            | operation op=('*' | '/') operation                                 # mulExpr
            | operation op=('+' | '-') operation                                 # addExpr
            | operation op=('<' | '<=' | '>' | '>=' | '==' | '!=') operation     # compareExpr
            | NOT operation                                                      # notExpr
            | operation AND operation                                            # andExpr
            | operation OR operation                                             # orExpr
            | number ({unitAhead(1)}? unit | notUnit=ID)?                        # literalExpr
            | ID '(' (expr (',' expr)*)? ')'                                     # callExpr
            | ID                                                                 # nameExpr
            | '(' expr ')'                                                       # parenExpr
            ;
number      : INT | FLOAT ;
unit        : (one=INT '/')? unitFactor ({unitAhead(2)}? op+=('*' | '/') unitFactor)* ;
unitFactor  : ID (('**' | '^') '-'? INT)? ;
// A run of line ends and ';' is one token (NL or SEMI), so deciding where
// a separator ends needs one token of lookahead, not the whole run.
sep         : NL | SEMI ;

UNLESS      : 'unless' ;
PER         : 'per' ;
RESET       : 'reset' ;
REFRACTORY  : 'refractory' ;
NOT         : 'not' ;
AND         : 'and' ;
OR          : 'or' ;
PRIME       : '\'' ;
PERCENT     : '%' ;
LPAREN      : '(' { enterNesting(); } ;
RPAREN      : ')' { if (nestingDepth > 0) nestingDepth--; } ;
LBRACK      : '[' { enterNesting(); } ;
RBRACK      : ']' { if (nestingDepth > 0) nestingDepth--; } ;
INT         : [0-9]+ ;
STRING      : '"' ~["\r\n]* '"' ;
FLOAT       : ([0-9]+ '.' [0-9]* | '.' [0-9]+) ([eE] [+-]? [0-9]+)?
            | [0-9]+ [eE] [+-]? [0-9]+ ;
ID          : [a-zA-Z_\u00B5\u03A9\u03BC] [a-zA-Z_0-9\u00B5\u03A9\u03BC]* ;
// Line ends with the blank lines, comments and indentation after them;
// inside parentheses they are skipped. A run with a ';' is SEMI.
NL          : LINE_END (LINE_END | BLANK | LINE_COMMENT)*
              { if (nestingDepth > 0) skip(); else setText("\n"); } ;
SEMI        : (LINE_END (LINE_END | BLANK | LINE_COMMENT)*)? ';' (';' | LINE_END | BLANK | LINE_COMMENT)*
              { setText(";"); } ;
fragment LINE_END     : '\r'? '\n' ;
fragment BLANK        : [ \t] | '\\' [ \t]* '\r'? '\n' ;
fragment LINE_COMMENT : ('#' | '//') ~[\r\n]* ;
COMMENT     : LINE_COMMENT -> skip ;
CONTINUATION: '\\' [ \t]* '\r'? '\n' -> skip ;
WS          : [ \t]+ -> skip ;
