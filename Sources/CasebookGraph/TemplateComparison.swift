import CasebookStore

/// Two accounts' templates compared as `casebook link` compares them, for an investigator
/// asking about two accounts the run kept apart: each account's first prompts in the order the
/// link run samples them, the phrases that recur across them, and the share of those in common.
public enum TemplateComparison {
    /// The share of recurring phrases two accounts' templates have in common (a Jaccard index), or
    /// nil when either account has no template in its sample (too few prompts, or none that recur).
    /// Whether the run counted it depends on the whole file (public wording, schedules, crowds).
    public static func likeness(_ database: Database, _ first: String, _ second: String,
                                parameters: LinkParameters = LinkParameters()) throws -> Double? {
        // The order of the covering index the link run scans (`FeatureReader`): its sample is
        // the account's first `templateSamplePrompts` exchanges in it, prompts or not.
        let sample = try database.prepare("""
            SELECT prompt FROM exchange_rows WHERE account_pk = (SELECT account_pk FROM account_rows WHERE account_id = ?1)
            ORDER BY ts_ms, ip_pk, user_agent_pk, model_pk, input_tokens, output_tokens, exchange_pk LIMIT ?2
            """)
        let sampler = PromptSampler(parameters: parameters)
        func template(_ account: String) throws -> [UInt64] {
            let prompts = try sample.rows([account, parameters.templateSamplePrompts]) { $0.string(0) }.compactMap { $0 }
            return sampler.recurringPhrases(tally: prompts.flatMap(PromptSampler.distinctPhrases), prompts: prompts.count)
        }
        let (x, y) = (try template(first), try template(second))
        guard !x.isEmpty, !y.isEmpty else { return nil }
        return MinHash.jaccard(x, y)
    }

    /// `likeness`, when it is at least what the link run weighs as merely similar templates.
    public static func alike(_ database: Database, _ first: String, _ second: String,
                             parameters: LinkParameters = LinkParameters()) throws -> Double? {
        try likeness(database, first, second, parameters: parameters).flatMap { $0 >= parameters.similarTemplateMinJaccard ? $0 : nil }
    }
}
