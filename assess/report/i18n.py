"""The report's translation tables: wording, month names, composite and sector labels (en, fr, ar).

Keys missing in a language fall back to English; labels of form questions come from the XLSForm instead.
"""

from __future__ import annotations

# Report wording. Keys missing in a language fall back to English.
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "national_report": "National report", "region_report": "Regional report", "round": "Round",
        "data_collection": "Data collection", "prepared_by": "Prepared by", "contents": "Contents",
        "summary": "Executive summary", "heat": "Needs by region", "charts": "National results by question",
        "composite": "Severity and composite indicators by region", "trends": "Change since the previous round",
        "ranking": "Ranking of areas", "methodology": "Methodology", "quality": "Annex: data quality",
        "repro": "Reproducibility", "page": "page", "of": "of", "households": "households",
        "counts_declined": "{interviewed} interviewed, {declined} declined, {in_estimates} in the estimates",
        "counts_unanswered": "{interviewed} interviewed, {declined} without answers to the needs questions, "
                             "{in_estimates} in the estimates",
        "interviewed": "Interviewed", "declined": "Declined", "in_estimates": "In the estimates",
        "no_needs_answers": "No needs answers",
        "ci": "95% CI", "estimate": "Estimate", "national": "National", "answer": "Answer", "n": "n",
        "mean": "Average", "key_figures": "Key figures compared with the national level",
        "region_charts": "Results by question", "breakdown": "Breakdown by {level}",
        "region_quality": "Data quality in this region", "this_area": "This area",
        "national_marker": "National figure", "share": "Share of households",
        "heat_note": "Share of households in each area (%). Darker cells are higher shares. "
                     "Cells with fewer than {min} households are not shown (n<{min}).",
        "arrow_note": "▲ / ▼: the national figure lies below / above this area's 95% confidence interval.",
        "sample_sentence": "This report is based on {n} households interviewed from {start} to {end} in {k} "
                           "areas ({level}).",
        "sample_sentence_nodates": "This report is based on {n} households interviewed in {k} areas ({level}).",
        "top_needs": "Nationally, the needs reported most often were {items}.",
        "top_answer": "Most frequent answer to “{question}”: {item}.",
        "mean_sentence": "Average answer to “{question}”: {value} (95% CI {ci}).",
        "highest_in": "“{what}” was reported most often in {items}.",
        "in_need_highest": "The share of households in need was highest in {items}.",
        "region_top": "In {area}, the needs reported most often were {items}.",
        "region_vs": "{item} is {direction} than nationally ({national}).",
        "higher": "higher", "lower": "lower",
        "trend_sentence": "Compared with round {prev}, {k} of {m} national figures changed by more than the "
                          "margin of error.",
        "n_households": "n = {n} households", "and": "and", "item_ci": "{label} ({value}, 95% CI {ci})",
        "item_value": "{label} ({value})",
        "previous": "Previous round", "current": "This round", "change": "Change",
        "significant": "Beyond margin of error", "pts": "pts", "yes": "yes", "no": "no",
        "indicator": "Indicator", "rank": "Rank", "area": "Area",
        "stratum": "Stratum", "clusters": "Clusters", "population": "Population (frame)",
        "sample_title": "Sample", "weighting_title": "Weighting", "ci_title": "Confidence intervals",
        "suppression_title": "Small groups", "dates_title": "Dates",
        "suppression": "Cells with fewer than {min} households are not shown; they appear as n<{min}.",
        "weight_frame": "Households are weighted so that each stratum ({strata}) counts in proportion to its "
                        "population in the sampling frame: weight = (population share of the stratum) / "
                        "(sample share of the stratum); weights average 1.",
        "weight_column": "Households are weighted by the weight column “{weight}” of the export.",
        "weight_none": "No weights: every household counts equally (the sample is treated as self-weighting).",
        "cluster_note": "Households of the same cluster ({cluster}) are not treated as independent.",
        "ci_text": "95% confidence intervals use Taylor linearisation of the weighted ratio estimator with a "
                   "Student t quantile on {df} degrees of freedom (primary sampling units minus strata). "
                   "Intervals are computed without clipping and clipped to 0–100% only for display.",
        "ci_none": "Confidence intervals could not be computed (too few sampling units).",
        "dates_text": "Interviews took place from {start} to {end}.",
        "files_title": "Files received", "file": "File", "format": "Format", "rows": "Rows read",
        "accepted": "Accepted", "quarantined": "Quarantined", "warnings": "Warnings", "status": "Status",
        "problems_title": "Records set aside or flagged, by reason", "kind": "Check", "reason": "Reason",
        "action": "Action", "records": "Records", "no_problems": "No record was quarantined or flagged.",
        "act_quarantine": "quarantined", "act_warn": "flagged, kept",
        "totals": "Total", "run_id": "Run", "generated": "Generated", "version": "Code version",
        "inputs": "Input files (sha256)", "repro_text": "Every number in this report can be traced back to the "
                                                      "exports listed below by their sha256 checksum.",
        "region_files": "Households per export file", "region_warnings": "Flagged answers (kept)",
        "region_quality_note": "Records set aside before loading cannot be placed in a region; they are "
                               "listed in the national report's data-quality annex.",
        "no_data": "No data.", "not_available": "n/a", "legend_heat": "Legend",
        "severity_title": "Households in need by sector and region",
        "severity_by": "Households in need (severity 3+) by sector and {level}",
        "severity_note": "Share of households at severity phase 3 or more (“in need”) in each sector. The overall "
                         "severity of a household is its worst sector.",
        "severity_dist": "Severity phases nationally, by sector",
        "phase": "Phase {p}", "in_need_col": "3+ (in need)",
        "sector": "Sector", "sector_overall": "Overall (worst sector)",
        "in_need_national": "Nationally, {value} of households are in need (severity phase 3 or more; 95% CI {ci}).",
        "in_need_area": "In {area}, {value} of households are in need (severity 3+; 95% CI {ci}), against "
                        "{national} nationally.",
        "food_security": "Food consumption", "ranking_title": "Top needs by region",
        "ranking_note": "“=” marks a need that cannot be told apart from the one ranked above it (their 95% "
                        "confidence intervals overlap).",
        "rank_n": "No. {n}",
    },
    "fr": {
        "national_report": "Rapport national", "region_report": "Rapport régional", "round": "Cycle",
        "data_collection": "Collecte des données", "prepared_by": "Préparé par", "contents": "Sommaire",
        "summary": "Résumé", "heat": "Besoins par région", "charts": "Résultats nationaux par question",
        "composite": "Sévérité et indicateurs composites par région",
        "trends": "Évolution depuis le cycle précédent", "ranking": "Classement des zones",
        "methodology": "Méthodologie", "quality": "Annexe : qualité des données",
        "repro": "Reproductibilité", "page": "page", "of": "sur", "households": "ménages",
        "counts_declined": "{interviewed} enquêtés, {declined} refus, {in_estimates} dans les estimations",
        "counts_unanswered": "{interviewed} enquêtés, {declined} sans réponse aux questions sur les besoins, "
                             "{in_estimates} dans les estimations",
        "interviewed": "Enquêtés", "declined": "Refus", "in_estimates": "Dans les estimations",
        "no_needs_answers": "Sans réponse sur les besoins",
        "ci": "IC à 95 %", "estimate": "Estimation", "national": "National", "answer": "Réponse",
        "mean": "Moyenne", "key_figures": "Chiffres clés comparés au niveau national",
        "region_charts": "Résultats par question", "breakdown": "Détail par {level}",
        "region_quality": "Qualité des données dans cette région", "this_area": "Cette zone",
        "national_marker": "Valeur nationale", "share": "Part des ménages",
        "heat_note": "Part des ménages dans chaque zone (%). Plus la case est foncée, plus la part est élevée. "
                     "Les cases de moins de {min} ménages ne sont pas affichées (n<{min}).",
        "arrow_note": "▲ / ▼ : la valeur nationale est en dessous / au-dessus de l'intervalle de confiance à "
                      "95 % de cette zone.",
        "sample_sentence": "Ce rapport repose sur {n} ménages enquêtés du {start} au {end} dans {k} zones "
                           "({level}).",
        "sample_sentence_nodates": "Ce rapport repose sur {n} ménages enquêtés dans {k} zones ({level}).",
        "top_needs": "Au niveau national, les besoins les plus souvent cités sont : {items}.",
        "top_answer": "Réponse la plus fréquente à « {question} » : {item}.",
        "mean_sentence": "Réponse moyenne à « {question} » : {value} (IC à 95 % {ci}).",
        "highest_in": "« {what} » est le plus souvent cité dans : {items}.",
        "in_need_highest": "La part des ménages dans le besoin est la plus élevée dans : {items}.",
        "region_top": "Dans la zone {area}, les besoins les plus souvent cités sont : {items}.",
        "region_vs": "{item} : plus {direction} qu'au niveau national ({national}).",
        "higher": "élevé", "lower": "faible",
        "trend_sentence": "Par rapport au cycle {prev}, {k} des {m} valeurs nationales ont changé au-delà de la "
                          "marge d'erreur.",
        "n_households": "n = {n} ménages", "and": "et", "item_ci": "{label} ({value}, IC à 95 % {ci})",
        "previous": "Cycle précédent", "current": "Ce cycle", "change": "Évolution",
        "significant": "Au-delà de la marge d'erreur", "pts": "pts", "yes": "oui", "no": "non",
        "indicator": "Indicateur", "rank": "Rang", "area": "Zone",
        "stratum": "Strate", "clusters": "Grappes", "population": "Population (base de sondage)",
        "sample_title": "Échantillon", "weighting_title": "Pondération", "ci_title": "Intervalles de confiance",
        "suppression_title": "Petits effectifs", "dates_title": "Dates",
        "suppression": "Les cases de moins de {min} ménages ne sont pas affichées ; elles apparaissent comme "
                       "n<{min}.",
        "weight_frame": "Les ménages sont pondérés pour que chaque strate ({strata}) compte en proportion de sa "
                        "population dans la base de sondage : poids = (part de la strate dans la population) / "
                        "(part de la strate dans l'échantillon) ; les poids valent 1 en moyenne.",
        "weight_column": "Les ménages sont pondérés par la colonne de poids « {weight} » de l'export.",
        "weight_none": "Pas de pondération : chaque ménage compte de la même façon.",
        "cluster_note": "Les ménages d'une même grappe ({cluster}) ne sont pas traités comme indépendants.",
        "ci_text": "Les intervalles de confiance à 95 % sont calculés par linéarisation de Taylor de "
                   "l'estimateur par le ratio pondéré, avec un quantile de Student à {df} degrés de liberté "
                   "(unités primaires moins strates). Ils sont bornés à 0–100 % pour l'affichage seulement.",
        "ci_none": "Les intervalles de confiance n'ont pas pu être calculés (trop peu d'unités).",
        "dates_text": "Les entretiens ont eu lieu du {start} au {end}.",
        "files_title": "Fichiers reçus", "file": "Fichier", "format": "Format", "rows": "Lignes lues",
        "accepted": "Acceptées", "quarantined": "En quarantaine", "warnings": "Alertes", "status": "Statut",
        "problems_title": "Enregistrements écartés ou signalés, par motif", "kind": "Contrôle",
        "reason": "Motif", "action": "Action", "records": "Enregistrements",
        "no_problems": "Aucun enregistrement n'a été écarté ni signalé.",
        "act_quarantine": "écarté", "act_warn": "signalé, conservé", "totals": "Total", "run_id": "Exécution",
        "generated": "Généré le", "version": "Version du code", "inputs": "Fichiers d'entrée (sha256)",
        "repro_text": "Chaque chiffre de ce rapport peut être rattaché aux exports listés ci-dessous par leur "
                      "empreinte sha256.",
        "region_files": "Ménages par fichier d'export", "region_warnings": "Réponses signalées (conservées)",
        "region_quality_note": "Les enregistrements écartés avant chargement ne peuvent pas être rattachés à une "
                               "région ; ils figurent dans l'annexe qualité du rapport national.",
        "no_data": "Pas de données.", "not_available": "n.d.", "legend_heat": "Légende",
        "severity_title": "Ménages dans le besoin par secteur et par région",
        "severity_by": "Ménages dans le besoin (sévérité 3+) par secteur et par {level}",
        "severity_note": "Part des ménages en phase de sévérité 3 ou plus (« dans le besoin ») dans chaque secteur. "
                         "La sévérité globale d'un ménage est celle de son pire secteur.",
        "severity_dist": "Phases de sévérité au niveau national, par secteur",
        "phase": "Phase {p}", "in_need_col": "3+ (dans le besoin)",
        "sector": "Secteur", "sector_overall": "Globale (pire secteur)",
        "in_need_national": "Au niveau national, {value} des ménages sont dans le besoin (phase 3 ou plus ; IC à "
                            "95 % {ci}).",
        "in_need_area": "Dans la zone {area}, {value} des ménages sont dans le besoin (sévérité 3+ ; IC à 95 % "
                        "{ci}), contre {national} au niveau national.",
        "food_security": "Consommation alimentaire", "ranking_title": "Principaux besoins par région",
        "ranking_note": "« = » signale un besoin qui ne se distingue pas de celui classé au-dessus (intervalles de "
                        "confiance à 95 % qui se chevauchent).",
        "rank_n": "N° {n}",
    },
    "ar": {
        "national_report": "التقرير الوطني", "region_report": "التقرير الإقليمي", "round": "الجولة",
        "data_collection": "جمع البيانات", "prepared_by": "إعداد", "contents": "المحتويات",
        "summary": "الملخص التنفيذي", "heat": "الاحتياجات حسب المنطقة", "charts": "النتائج الوطنية حسب السؤال",
        "composite": "الشدة والمؤشرات المركبة حسب المنطقة", "trends": "التغير منذ الجولة السابقة",
        "ranking": "ترتيب المناطق", "methodology": "المنهجية", "quality": "ملحق: جودة البيانات",
        "repro": "قابلية إعادة الإنتاج", "page": "صفحة", "of": "من", "households": "أسرة",
        "counts_declined": "{interviewed} تمت مقابلتها، {declined} رفضت، {in_estimates} ضمن التقديرات",
        "counts_unanswered": "{interviewed} تمت مقابلتها، {declined} دون إجابات عن أسئلة الاحتياجات، "
                             "{in_estimates} ضمن التقديرات",
        "interviewed": "تمت مقابلتها", "declined": "رفضت", "in_estimates": "ضمن التقديرات",
        "no_needs_answers": "دون إجابات عن الاحتياجات",
        "ci": "فترة الثقة 95%", "estimate": "التقدير", "national": "وطني", "answer": "الإجابة",
        "mean": "المتوسط", "key_figures": "الأرقام الرئيسية مقارنة بالمستوى الوطني",
        "region_charts": "النتائج حسب السؤال", "breakdown": "التفصيل حسب {level}",
        "region_quality": "جودة البيانات في هذه المنطقة", "this_area": "هذه المنطقة",
        "national_marker": "القيمة الوطنية", "share": "نسبة الأسر",
        "heat_note": "نسبة الأسر في كل منطقة (%). الخلايا الأغمق تعني نسبة أعلى. "
                     "لا تُعرض الخلايا التي تضم أقل من {min} أسر (n<{min}).",
        "arrow_note": "▲ / ▼: القيمة الوطنية أدنى / أعلى من فترة الثقة 95% لهذه المنطقة.",
        "sample_sentence": "يستند هذا التقرير إلى {n} أسرة تمت مقابلتها من {start} إلى {end} في {k} مناطق ({level}).",
        "sample_sentence_nodates": "يستند هذا التقرير إلى {n} أسرة تمت مقابلتها في {k} مناطق ({level}).",
        "top_needs": "على المستوى الوطني، كانت الاحتياجات الأكثر ذكرًا: {items}.",
        "top_answer": "الإجابة الأكثر شيوعًا على «{question}»: {item}.",
        "mean_sentence": "متوسط الإجابة على «{question}»: {value} (فترة الثقة 95% {ci}).",
        "highest_in": "كان «{what}» الأكثر ذكرًا في: {items}.",
        "in_need_highest": "كانت نسبة الأسر المحتاجة الأعلى في: {items}.",
        "region_top": "في {area}، كانت الاحتياجات الأكثر ذكرًا: {items}.",
        "region_vs": "{item}: أ{direction} من المستوى الوطني ({national}).",
        "higher": "على", "lower": "دنى",
        "trend_sentence": "مقارنة بالجولة {prev}، تغيرت {k} من أصل {m} قيمة وطنية بأكثر من هامش الخطأ.",
        "n_households": "n = {n} أسرة", "and": "و", "item_ci": "{label} ({value}، فترة الثقة 95% {ci})",
        "previous": "الجولة السابقة", "current": "هذه الجولة", "change": "التغير",
        "significant": "أكبر من هامش الخطأ", "pts": "نقطة", "yes": "نعم", "no": "لا",
        "indicator": "المؤشر", "rank": "الترتيب", "area": "المنطقة",
        "stratum": "الطبقة", "clusters": "العناقيد", "population": "السكان (إطار المعاينة)",
        "sample_title": "العينة", "weighting_title": "الترجيح", "ci_title": "فترات الثقة",
        "suppression_title": "المجموعات الصغيرة", "dates_title": "التواريخ",
        "suppression": "لا تُعرض الخلايا التي تضم أقل من {min} أسر؛ وتظهر بالشكل n<{min}.",
        "weight_frame": "تُرجَّح الأسر بحيث تُحتسب كل طبقة ({strata}) بنسبة سكانها في إطار المعاينة: "
                        "الوزن = (حصة الطبقة من السكان) / (حصة الطبقة من العينة)؛ ومتوسط الأوزان 1.",
        "weight_column": "تُرجَّح الأسر بعمود الوزن «{weight}» في ملف التصدير.",
        "weight_none": "بدون ترجيح: تُحتسب كل أسرة بالتساوي.",
        "cluster_note": "لا تُعامل أسر العنقود نفسه ({cluster}) على أنها مستقلة.",
        "ci_text": "تُحسب فترات الثقة 95% بطريقة تايلور الخطية لمقدّر النسبة المرجّح مع توزيع ستيودنت t "
                   "بدرجات حرية {df} (وحدات المعاينة الأولية ناقص الطبقات). وتُقصّ إلى 0–100% عند العرض فقط.",
        "ci_none": "تعذّر حساب فترات الثقة (عدد الوحدات قليل جدًا).",
        "dates_text": "أُجريت المقابلات من {start} إلى {end}.",
        "files_title": "الملفات المستلمة", "file": "الملف", "format": "الصيغة", "rows": "الصفوف المقروءة",
        "accepted": "المقبولة", "quarantined": "المعزولة", "warnings": "التنبيهات", "status": "الحالة",
        "problems_title": "السجلات المستبعدة أو المُعلَّمة حسب السبب", "kind": "الفحص", "reason": "السبب",
        "action": "الإجراء", "records": "السجلات", "no_problems": "لم يُستبعد أو يُعلَّم أي سجل.",
        "act_quarantine": "مستبعد", "act_warn": "مُعلَّم ومحتفظ به", "totals": "المجموع", "run_id": "التشغيل",
        "generated": "تاريخ الإنشاء", "version": "إصدار الشيفرة", "inputs": "ملفات الإدخال (sha256)",
        "repro_text": "يمكن تتبع كل رقم في هذا التقرير إلى ملفات التصدير المذكورة أدناه عبر بصمة sha256.",
        "region_files": "الأسر حسب ملف التصدير", "region_warnings": "الإجابات المُعلَّمة (محتفظ بها)",
        "region_quality_note": "لا يمكن نسب السجلات المستبعدة قبل التحميل إلى منطقة؛ وهي مذكورة في ملحق جودة "
                               "البيانات في التقرير الوطني.",
        "no_data": "لا توجد بيانات.", "not_available": "غير متاح", "legend_heat": "مفتاح الألوان",
        "severity_title": "الأسر المحتاجة حسب القطاع والمنطقة",
        "severity_by": "الأسر المحتاجة (الشدة 3+) حسب القطاع و{level}",
        "severity_note": "نسبة الأسر في مرحلة الشدة 3 أو أكثر («محتاجة») في كل قطاع. الشدة الإجمالية للأسرة هي "
                         "شدة أسوأ قطاع لديها.",
        "severity_dist": "مراحل الشدة على المستوى الوطني حسب القطاع",
        "phase": "المرحلة {p}", "in_need_col": "3+ (محتاجة)",
        "sector": "القطاع", "sector_overall": "الإجمالي (أسوأ قطاع)",
        "in_need_national": "على المستوى الوطني، {value} من الأسر محتاجة (مرحلة الشدة 3 أو أكثر؛ فترة الثقة 95% {ci}).",
        "in_need_area": "في {area}، {value} من الأسر محتاجة (الشدة 3+؛ فترة الثقة 95% {ci}) مقابل {national} على "
                        "المستوى الوطني.",
        "food_security": "الاستهلاك الغذائي", "ranking_title": "أهم الاحتياجات حسب المنطقة",
        "ranking_note": "تشير «=» إلى احتياج لا يمكن تمييزه عن الاحتياج الذي يسبقه (تتداخل فترات الثقة 95%).",
        "rank_n": "رقم {n}",
    },
}
MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "ar": ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
           "ديسمبر"],
}
# Built-in names for composite indicators written by the indicators step (not XLSForm questions).
COMPOSITE_LABELS = {
    "en": {"fcs": "Food consumption score", "fcs_score": "Food consumption score (average)", "fcs_group": "Food consumption group",
           "fcs_category": "Food consumption group", "severity": "Severity phase",
           "severity_in_need": "Households in need (severity)", "poor": "Poor", "borderline": "Borderline",
           "acceptable": "Acceptable"},
    "fr": {"fcs": "Score de consommation alimentaire", "fcs_score": "Score de consommation alimentaire (moyenne)", "fcs_group": "Groupe de consommation alimentaire",
           "fcs_category": "Groupe de consommation alimentaire", "severity": "Phase de sévérité",
           "severity_in_need": "Ménages dans le besoin (sévérité)", "poor": "Pauvre", "borderline": "Limite",
           "acceptable": "Acceptable"},
    "ar": {"fcs": "درجة الاستهلاك الغذائي", "fcs_score": "درجة الاستهلاك الغذائي (المتوسط)", "fcs_group": "فئة الاستهلاك الغذائي",
           "fcs_category": "فئة الاستهلاك الغذائي", "severity": "مرحلة الشدة",
           "severity_in_need": "الأسر المحتاجة (الشدة)", "poor": "ضعيف", "borderline": "حدّي",
           "acceptable": "مقبول"},
}
SECTOR_LABELS = {
    "en": {"food": "Food security", "wash": "Water, sanitation, hygiene", "shelter": "Shelter", "health": "Health",
           "protection": "Protection", "education": "Education", "livelihoods": "Livelihoods", "nutrition": "Nutrition"},
    "fr": {"food": "Sécurité alimentaire", "wash": "Eau, hygiène, assainissement", "shelter": "Abri",
           "health": "Santé", "protection": "Protection", "education": "Éducation", "livelihoods": "Moyens d'existence",
           "nutrition": "Nutrition"},
    "ar": {"food": "الأمن الغذائي", "wash": "المياه والصرف الصحي والنظافة", "shelter": "المأوى", "health": "الصحة",
           "protection": "الحماية", "education": "التعليم", "livelihoods": "سبل العيش", "nutrition": "التغذية"},
}
