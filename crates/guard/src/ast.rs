//! The typed syntax tree of a policy file, lowered at once from pest's parse tree. Spans are
//! byte ranges into the policy's source.

use std::ops::Range;

pub type Span = Range<usize>;

/// A literal value in a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Char(char),
    Regex(String),
    Range(Box<RangeLit>),
    List(Vec<Literal>),
    Map(Vec<(String, Literal)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RangeLit {
    pub lower: Literal,
    pub upper: Literal,
    pub lower_inclusive: bool,
    pub upper_inclusive: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// `a` or `.a` or `."quoted"` or `['a']`
    Key(String),
    /// `.*`: all values of a map, or all items of a list
    All,
    /// `[*]`: all items of a list; a map or a scalar is kept as it is (as in cfn-guard)
    AllItems,
    /// `[0]`, `.0`, `[-1]`
    Index(i64),
    /// `%var` (first part) or `.%var` (keys from the variable's values)
    Variable(String),
    /// `this`
    This,
    /// `[ name ]`: all values, binding each key or index to `name`.
    Bind(String),
    /// `[ clauses ]` or `[ v | clauses ]`
    Filter {
        bind: Option<String>,
        conditions: Conjunction,
    },
    /// `[ keys == /re/ ]`, `[ keys IN [...] ]`
    KeysFilter { op: CmpOp, rhs: Box<Rhs> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub some: bool,
    pub parts: Vec<Part>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FnCall {
    pub name: String,
    pub args: Vec<Rhs>,
    pub span: Span,
}

/// A right-hand side, a `let` value or a function argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Rhs {
    Literal(Literal, Span),
    Query(Query),
    Call(FnCall),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Exists,
    Empty,
    IsString,
    IsList,
    IsStruct,
    IsBool,
    IsInt,
    IsFloat,
    IsNull,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// `[not] QUERY OP [RHS] [<< message >>]`
    Access {
        not: bool,
        query: Query,
        op: AccessOp,
        message: Option<String>,
        span: Span,
    },
    /// `[some] QUERY [!empty] { ... }`
    Block {
        query: Query,
        not_empty: bool,
        body: Block,
        span: Span,
    },
    /// `[not] rule_name [<< message >>]`
    RuleRef {
        not: bool,
        name: String,
        message: Option<String>,
        span: Span,
    },
    /// `[not] name(args) [<< message >>]`
    ParamCall {
        not: bool,
        name: String,
        args: Vec<Rhs>,
        message: Option<String>,
        span: Span,
    },
    /// `when CONDITIONS { ... }`
    When {
        conditions: Conjunction,
        body: Block,
        span: Span,
    },
    /// `AWS::S3::Bucket [when ...] { ... }` (the one-clause form becomes a one-clause body)
    TypeBlock {
        type_name: String,
        conditions: Option<Conjunction>,
        body: Block,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum AccessOp {
    Unary { not: bool, op: UnaryOp },
    Binary { op: CmpOp, rhs: Rhs },
}

/// Clauses ANDed, each a disjunction (clauses ORed).
pub type Conjunction = Vec<Vec<Clause>>;

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Block {
    pub lets: Vec<Let>,
    pub clauses: Conjunction,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    pub name: String,
    pub value: Rhs,
    pub span: Span,
}

/// proctor's annotations on a rule (`# @id: ...` comments just above it).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RuleMeta {
    pub id: Option<String>,
    pub severity: Option<String>,
    pub description: Option<String>,
    pub docs: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: String,
    pub name_span: Span,
    pub conditions: Option<Conjunction>,
    pub body: Block,
    pub meta: RuleMeta,
    /// The implicit rule `default` made of a file's bare clauses.
    pub implicit: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParamRule {
    pub name: String,
    pub name_span: Span,
    pub params: Vec<String>,
    pub body: Block,
}

/// A policy file, lowered.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PolicyFile {
    pub lets: Vec<Let>,
    pub rules: Vec<Rule>,
    pub param_rules: Vec<ParamRule>,
}
