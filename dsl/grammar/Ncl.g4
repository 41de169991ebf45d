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
}

@parser::header {
#include "ncl/DSL/Units.h"
}

@parser::members {
  /// A unit after a number extends only over names that are units, so
  /// `10 Mohm * I` is (10 Mohm) * I while `2 mV/ms` is one quantity.
  bool unitAhead(size_t k) {
    antlr4::Token *t = _input->LT(k);
    // parseUnit also accepts a power glued to the name: cm2, um3.
    return t->getType() == ID && ncl::units::parseUnit(t->getText()).has_value();
  }
}

file        : sep? (topItem (sep topItem)*)? sep? EOF ;
topItem     : importDecl | neuronDecl | networkDecl ;
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

networkDecl : 'network' ID NL* '{' sep? (networkItem (sep networkItem)*)? sep? '}' ;
networkItem : 'population' ID '=' ID '[' INT ']' (NL* '{' sep? (populationItem (sep populationItem)*)? sep? '}')?  # populationDecl
            | 'record' 'spikes' '(' ID (',' ID)* ')'                             # recordDecl
            | 'stimulus' ID '.' ID '+=' expr                                      # stimulusDecl
            | 'simulate' expr (',' ID '=' expr)*                                 # simulateDecl
            ;
populationItem : declaration | 'method' ID ('substeps' INT)? ;

expr        : <assoc=right> expr '**' expr                                       # powerExpr
            | op=('-' | '+') expr                                                # unaryExpr
            | expr op=('*' | '/') expr                                           # mulExpr
            | expr op=('+' | '-') expr                                           # addExpr
            | expr op=('<' | '<=' | '>' | '>=' | '==' | '!=') expr               # compareExpr
            | NOT expr                                                           # notExpr
            | expr AND expr                                                      # andExpr
            | expr OR expr                                                       # orExpr
            | <assoc=right> expr '?' expr ':' expr                               # conditionalExpr
            | number ({unitAhead(1)}? unit | notUnit=ID)?                        # literalExpr
            | ID '(' (expr (',' expr)*)? ')'                                     # callExpr
            | ID                                                                 # nameExpr
            | '(' expr ')'                                                       # parenExpr
            ;
number      : INT | FLOAT ;
unit        : (one=INT '/')? unitFactor ({unitAhead(2)}? op+=('*' | '/') unitFactor)* ;
unitFactor  : ID (('**' | '^') '-'? INT)? ;
sep         : (NL | ';')+ ;

UNLESS      : 'unless' ;
PER         : 'per' ;
REFRACTORY  : 'refractory' ;
NOT         : 'not' ;
AND         : 'and' ;
OR          : 'or' ;
PRIME       : '\'' ;
LPAREN      : '(' { nestingDepth++; } ;
RPAREN      : ')' { if (nestingDepth > 0) nestingDepth--; } ;
LBRACK      : '[' { nestingDepth++; } ;
RBRACK      : ']' { if (nestingDepth > 0) nestingDepth--; } ;
INT         : [0-9]+ ;
STRING      : '"' ~["\r\n]* '"' ;
FLOAT       : ([0-9]+ '.' [0-9]* | '.' [0-9]+) ([eE] [+-]? [0-9]+)?
            | [0-9]+ [eE] [+-]? [0-9]+ ;
ID          : [a-zA-Z_\u00B5\u03A9\u03BC] [a-zA-Z_0-9\u00B5\u03A9\u03BC]* ;
NL          : '\r'? '\n' { if (nestingDepth > 0) skip(); } ;
COMMENT     : ('#' | '//') ~[\r\n]* -> skip ;
CONTINUATION: '\\' [ \t]* '\r'? '\n' -> skip ;
WS          : [ \t]+ -> skip ;
