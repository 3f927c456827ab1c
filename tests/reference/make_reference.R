# make_reference.R -- R/metafor reference fixtures for the duiding engine.
#
# Run from the repository root:
#     Rscript tests/reference/make_reference.R
# Writes tests/reference/metafor_reference.json.
#
# Requires: R, metafor (>= 3.x), metadat, jsonlite
#   (Debian: apt-get install -y r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite)
#
# Numerical settings
# ------------------
# * rma() / rma.uni():  control = list(threshold = 1e-12, maxiter = 1000, tol = 1e-12)
#     threshold -> convergence criterion of the Fisher-scoring / fixed-point
#                  iterations (ML, REML, EB; default 1e-5)
#     tol       -> tolerance of uniroot() used by PM (generalised Q estimator;
#                  default .Machine$double.eps^0.25) and of the ll0 check
#     maxiter   -> for both (default 100)
#   DL, HE and SJ are closed-form (SJ uses metafor's default initial value
#   var(yi) * (k-1)/k) and are unaffected.
# * confint() Q-profile intervals: control = list(tol = 1e-12, maxiter = 1000)
# * trimfill(): metafor 3.8 does not pass the original fit's control (nor its
#   `test`) on to its internal rma.uni() refits, so CTRL is passed through
#   trimfill(res, control = CTRL).  The final filled-in fit therefore always
#   uses test = "z", as plain trimfill(res) does in metafor.
# * regtest() and leave1out() re-use res$control (and res$test) themselves.
# * Fixed-effect fits use method = "FE" (accepted by metafor 3.8 as a synonym
#   of "EE"; newer metafor versions still accept "FE").
#
# Conventions in the JSON
# -----------------------
# * All effects on the analysis scale (log RR / log OR for ratio measures).
# * Binary escalc(): metafor defaults add = 1/2, to = "only0", drop00 = FALSE
#   (drop00 given explicitly).  rma.mh() / rma.peto() are called with their OWN
#   defaults (add = 1/2, to = "only0", drop00 = TRUE), which only affect the
#   per-study yi/vi they use for the Q test / I2 / leave-one-out Q; the pooled
#   MH / Peto estimate itself uses the raw counts.
# * weights = weights(res), in percent, study order.
# * i2 / i2 CI in percent, as metafor prints them.
# * For FE / MH / PETO: tau2 = 0, tau2/i2/h2 CIs = null, pi_low/pi_high =
#   ci.lb/ci.ub of predict(res).
# * Egger / trim-and-fill for MH / PETO fits are computed with
#   rma(res$yi, res$vi, method = "FE") on the fit's own per-study yi/vi (double-zero
#   studies left out, as for Q); rma.mh / rma.peto objects are not accepted by
#   regtest()/trimfill().
# * confint(): control also sets tau2.max = 1e7, so that upper bounds beyond
#   metafor's default search limit max(100, 10 * tau2) are the real roots.
# * influence(), cumul(), ranktest() and regtest(predictor = "ni"/"ninv") for
#   rma.uni fits (influence needs k >= 2; MH/Peto have no influence()); cumul()
#   uses the order in the case's "cumul_order" (year where the data set has one).
# * Any piece that fails yields null plus a message in the case's "notes";
#   warnings raised by metafor are also recorded in "notes".

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

CTRL    <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12)
CI_CTRL <- list(tol = 1e-12, maxiter = 1000, tau2.max = 1e7)

FE_TYPES <- c("FE", "MH", "PETO")
BINARY   <- c("RR", "OR", "RD")
CONTIN   <- c("MD", "SMD")

out_path <- file.path("tests", "reference", "metafor_reference.json")

# ---------------------------------------------------------------------------
# small utilities
# ---------------------------------------------------------------------------

# per-case notes collector
.notes <- character(0)
add_note <- function(msg) .notes <<- c(.notes, msg)

# evaluate expr; errors -> NULL + note, warnings -> note (and muffled)
safe <- function(label, expr) {
  tryCatch(
    withCallingHandlers(expr, warning = function(w) {
      add_note(paste0(label, " warning: ", conditionMessage(w)))
      invokeRestart("muffleWarning")
    }),
    error = function(e) {
      add_note(paste0(label, " failed: ", conditionMessage(e)))
      NULL
    }
  )
}

# scalar number (NA kept, written as null); NULL/empty -> NA
num <- function(x) {
  if (is.null(x) || length(x) == 0) return(NA_real_)
  as.numeric(x)[1]
}

# vector that must stay a JSON array even when of length 1
arr <- function(x) I(unname(as.vector(x)))

# ---------------------------------------------------------------------------
# model fitting
# ---------------------------------------------------------------------------

# effect sizes for a case (list with yi, vi)
compute_escalc <- function(measure, method, d) {
  if (measure %in% CONTIN) {
    es <- escalc(measure, m1i = d$m1, sd1i = d$sd1, n1i = d$n1,
                 m2i = d$m2, sd2i = d$sd2, n2i = d$n2)
  } else if (measure %in% BINARY) {
    m <- if (method == "PETO") "PETO" else measure
    es <- escalc(m, ai = d$e1, n1i = d$n1, ci = d$e2, n2i = d$n2,
                 add = 1/2, to = "only0", drop00 = FALSE)
  } else {
    es <- list(yi = d$yi, vi = d$vi)
  }
  list(yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}

# the main model for a case; d = data list, es = escalc result
fit_model <- function(measure, method, test, d, es) {
  if (method == "MH") {
    rma.mh(ai = d$e1, n1i = d$n1, ci = d$e2, n2i = d$n2, measure = measure,
           slab = d$study)
  } else if (method == "PETO") {
    rma.peto(ai = d$e1, n1i = d$n1, ci = d$e2, n2i = d$n2, slab = d$study)
  } else {
    rma(yi = es$yi, vi = es$vi, method = method, test = test,
        slab = d$study, control = CTRL)
  }
}

# FE model on the MH/Peto fit's own per-study yi/vi (used for egger/trimfill of MH/PETO
# fits): these are the values rma.mh/rma.peto use for Q, i.e. without double-zero studies.
fe_on_escalc <- function(res) {
  rma(yi = res$yi, vi = res$vi, method = "FE", control = CTRL)
}

# ---------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------

fit_summary <- function(res, method) {
  is_fe <- method %in% FE_TYPES
  out <- list(
    k        = num(res$k),
    estimate = num(res$beta),
    se       = num(res$se),
    ci_low   = num(res$ci.lb),
    ci_high  = num(res$ci.ub),
    pval     = num(res$pval),
    tau2     = if (is_fe) 0 else num(res$tau2),
    tau2_ci_low = NA_real_, tau2_ci_high = NA_real_,
    i2       = num(res$I2),
    i2_ci_low = NA_real_, i2_ci_high = NA_real_,
    h2       = num(res$H2),
    h2_ci_low = NA_real_, h2_ci_high = NA_real_,
    q        = num(res$QE),
    q_pval   = num(res$QEp),
    pi_low   = NA_real_, pi_high = NA_real_,
    weights  = NULL
  )

  # Q-profile confidence intervals (random-effects fits only)
  if (!is_fe) {
    ci <- safe("confint", confint(res, control = CI_CTRL))
    if (!is.null(ci)) {
      r <- ci$random
      out$tau2_ci_low  <- num(r["tau^2", "ci.lb"])
      out$tau2_ci_high <- num(r["tau^2", "ci.ub"])
      out$i2_ci_low    <- num(r["I^2(%)", "ci.lb"])
      out$i2_ci_high   <- num(r["I^2(%)", "ci.ub"])
      out$h2_ci_low    <- num(r["H^2", "ci.lb"])
      out$h2_ci_high   <- num(r["H^2", "ci.ub"])
    }
  }

  # prediction interval (CI of predict() for fixed-effect type fits)
  pr <- safe("predict", predict(res))
  if (!is.null(pr)) {
    if (is_fe || is.null(pr$pi.lb)) {
      out$pi_low <- num(pr$ci.lb); out$pi_high <- num(pr$ci.ub)
    } else {
      out$pi_low <- num(pr$pi.lb); out$pi_high <- num(pr$pi.ub)
    }
  }

  w <- safe("weights", weights(res))
  out$weights <- if (is.null(w)) NULL else arr(w)
  out
}

# Egger regression test (regtest default: model = "rma", predictor = "sei")
egger_summary <- function(res, method, es, k) {
  if (k < 3) return(NULL)
  # MH / PETO: regtest on an FE rma() fit of the model's own per-study yi/vi
  base <- if (method %in% c("MH", "PETO")) safe("egger base fit", fe_on_escalc(res)) else res
  if (is.null(base)) return(NULL)
  rt <- safe("regtest", regtest(base))
  if (is.null(rt)) return(NULL)
  # rt$zval holds the t statistic when test = "knha"
  list(stat = num(rt$zval), pval = num(rt$pval))
}

# trim-and-fill with metafor defaults (L0 estimator, side chosen by metafor)
trimfill_summary <- function(res, method, es, k) {
  if (k < 3) return(NULL)
  base <- if (method %in% c("MH", "PETO")) safe("trimfill base fit", fe_on_escalc(res)) else res
  if (is.null(base)) return(NULL)
  tf <- safe("trimfill", trimfill(base, control = CTRL))
  if (is.null(tf)) return(NULL)
  list(k0 = num(tf$k0), side = as.character(tf$side),
       estimate = num(tf$beta), se = num(tf$se),
       ci_low = num(tf$ci.lb), ci_high = num(tf$ci.ub))
}

leave1out_summary <- function(res, method, study, k) {
  if (k < 2) return(NULL)
  l1 <- safe("leave1out", leave1out(res))
  if (is.null(l1)) return(NULL)
  is_fe <- method %in% FE_TYPES
  lapply(seq_len(k), function(i) list(
    study    = study[i],
    estimate = num(l1$estimate[i]),
    se       = num(l1$se[i]),
    ci_low   = num(l1$ci.lb[i]),
    ci_high  = num(l1$ci.ub[i]),
    pval     = num(l1$pval[i]),
    q        = num(l1$Q[i]),
    q_pval   = num(l1$Qp[i]),
    tau2     = if (is_fe || is.null(l1$tau2)) 0 else num(l1$tau2[i]),
    i2       = num(l1$I2[i]),
    h2       = num(l1$H2[i])
  ))
}

influence_summary <- function(res, method, study, k) {
  if (k < 2 || method %in% c("MH", "PETO")) return(NULL)
  inf <- safe("influence", influence(res))
  if (is.null(inf)) return(NULL)
  i <- inf$inf
  list(study = arr(study), rstudent = arr(i$rstudent), dffits = arr(i$dffits),
       cook_d = arr(i$cook.d), cov_r = arr(i$cov.r), tau2_del = arr(i$tau2.del),
       q_del = arr(i$QE.del), hat = arr(i$hat), weight = arr(i$weight),
       dfbetas = arr(inf$dfbs[[1]]), influential = arr(inf$is.infl))
}

cumul_summary <- function(res, method, order) {
  if (method %in% c("MH", "PETO")) return(NULL)
  cu <- safe("cumul", do.call(cumul, list(res, order = order)))
  if (is.null(cu)) return(NULL)
  list(order = arr(order), estimate = arr(cu$estimate), se = arr(cu$se),
       ci_low = arr(cu$ci.lb), ci_high = arr(cu$ci.ub), pval = arr(cu$pvals),
       q = arr(cu$Q), q_pval = arr(cu$Qp),
       tau2 = if (is.null(cu$tau2)) arr(rep(0, length(cu$Q))) else arr(cu$tau2),
       i2 = arr(cu$I2), h2 = arr(cu$H2))
}

ranktest_summary <- function(res, method, k) {
  if (k < 2 || method %in% c("MH", "PETO")) return(NULL)
  rt <- safe("ranktest", ranktest(res))
  if (is.null(rt)) return(NULL)
  list(tau = num(rt$tau), pval = num(rt$pval))
}

regtest_ni_summary <- function(res, method, d, k) {
  if (k < 3 || method %in% c("MH", "PETO") || is.null(d$n1)) return(NULL)
  ni <- d$n1 + d$n2
  out <- list()
  for (pred in c("ni", "ninv")) {
    rt <- safe(paste("regtest", pred), regtest(res, ni = ni, predictor = pred))
    out[[pred]] <- if (is.null(rt)) NULL else list(stat = num(rt$zval), pval = num(rt$pval))
  }
  out
}

# separate fits per subgroup (same measure/method/test), plus the
# between-subgroup Q from an FE meta-analysis of the subgroup estimates
subgroup_summary <- function(measure, method, test, d, es, sg) {
  if (is.null(sg)) return(NULL)
  g <- sg$values
  levels_in_order <- unique(g)
  groups <- list(); ests <- c(); ses <- c()
  for (lev in levels_in_order) {
    idx <- which(g == lev)
    dsub <- lapply(d, function(col) col[idx])
    esub <- list(yi = es$yi[idx], vi = es$vi[idx])
    r <- safe(paste0("subgroup ", lev), fit_model(measure, method, test, dsub, esub))
    if (is.null(r)) next
    ests <- c(ests, num(r$beta)); ses <- c(ses, num(r$se))
    groups[[length(groups) + 1]] <- list(
      value = as.character(lev), k = num(r$k),
      estimate = num(r$beta), se = num(r$se),
      ci_low = num(r$ci.lb), ci_high = num(r$ci.ub),
      tau2 = if (method %in% FE_TYPES) 0 else num(r$tau2),
      i2 = num(r$I2), q = num(r$QE))
  }
  qb <- safe("q_between", rma(yi = ests, sei = ses, method = "FE")$QE)
  dfb <- length(ests) - 1
  list(groups = groups,
       q_between  = num(qb),
       df_between = dfb,
       p_between  = if (is.null(qb)) NA_real_ else pchisq(qb, df = dfb, lower.tail = FALSE))
}

# ---------------------------------------------------------------------------
# one case
# ---------------------------------------------------------------------------

make_case <- function(name, measure, method, data, test = "z", subgroup = NULL, order = NULL) {
  .notes <<- character(0)
  es  <- compute_escalc(measure, method, data)
  res <- safe("fit", fit_model(measure, method, test, data, es))
  k   <- length(data$study)

  data_out <- lapply(data, arr)

  case <- list(
    name = name, measure = measure, method = method, test = test,
    data = data_out,
    subgroup = if (is.null(subgroup)) NULL else
      list(column = subgroup$column, values = arr(subgroup$values)),
    escalc = list(yi = arr(es$yi), vi = arr(es$vi)),
    fit = NULL, egger = NULL, trimfill = NULL,
    leave_one_out = NULL, subgroups = NULL,
    influence = NULL, cumul = NULL, ranktest = NULL, regtest_ni = NULL
  )
  if (is.null(order)) order <- rev(seq_len(k))
  if (!is.null(res)) {
    case$fit           <- fit_summary(res, method)
    case$egger         <- egger_summary(res, method, es, k)
    case$trimfill      <- trimfill_summary(res, method, es, k)
    case$leave_one_out <- leave1out_summary(res, method, data$study, k)
    case$subgroups     <- subgroup_summary(measure, method, test, data, es, subgroup)
    case$influence     <- influence_summary(res, method, data$study, k)
    case$cumul         <- cumul_summary(res, method, order)
    case$ranktest      <- ranktest_summary(res, method, k)
    case$regtest_ni    <- regtest_ni_summary(res, method, data, k)
  }
  if (method %in% c("MH", "PETO") && any(data$e1 == 0 & data$e2 == 0))
    add_note(paste("double-zero study kept in escalc (drop00 = FALSE) but excluded from",
                   "the Q test by rma.mh/rma.peto (drop00 = TRUE): Q df = k - 2 here,",
                   "MH/Peto weight of that study = 0"))
  case$notes <- if (length(.notes)) paste(unique(.notes), collapse = "; ") else NULL
  # keep explicit nulls for absent pieces
  for (key in c("subgroup", "fit", "egger", "trimfill", "leave_one_out", "subgroups",
                "influence", "cumul", "ranktest", "regtest_ni", "notes"))
    if (is.null(case[[key]])) case[key] <- list(NULL)
  case
}

# ---------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------

# dat.bcg (BCG vaccine; arm 1 = vaccinated)
bcg <- list(
  study = paste(dat.bcg$author, dat.bcg$year),
  e1 = dat.bcg$tpos, n1 = dat.bcg$tpos + dat.bcg$tneg,
  e2 = dat.bcg$cpos, n2 = dat.bcg$cpos + dat.bcg$cneg
)
bcg_alloc <- dat.bcg$alloc

# dat.normand1999 (length of stay; arm 1 = specialist care)
nd <- dat.normand1999
normand <- list(
  study = nd$source,
  n1 = nd$n1i, m1 = nd$m1i, sd1 = nd$sd1i,
  n2 = nd$n2i, m2 = nd$m2i, sd2 = nd$sd2i
)

# generic-inverse-variance data sets
hackshaw <- list(study = paste(dat.hackshaw1998$author, dat.hackshaw1998$year),
                 yi = as.numeric(dat.hackshaw1998$yi),
                 vi = as.numeric(dat.hackshaw1998$vi))
bangert <- list(study = paste(dat.bangertdrowns2004$author, dat.bangertdrowns2004$year),
                yi = as.numeric(dat.bangertdrowns2004$yi),
                vi = as.numeric(dat.bangertdrowns2004$vi))
# study labels must be unique
hackshaw$study <- make.unique(hackshaw$study, sep = " #")
bangert$study  <- make.unique(bangert$study, sep = " #")

# --- synthetic edge-case data (made up for these fixtures) -----------------

syn_k1 <- list(study = "S1", yi = 0.42, vi = 0.05)

# homogeneous: Q < k-1, so tau2 = 0 for REML/DL/PM; with knha the
# scale factor s2 = Q/(k-1) < 1, so the knha SE is SMALLER than the z SE
syn_homog <- list(study = paste0("S", 1:6),
                  yi = c(0.30, 0.32, 0.29, 0.31, 0.30, 0.33),
                  vi = c(0.020, 0.030, 0.025, 0.040, 0.020, 0.035))

# strongly asymmetric funnel: small studies have large positive effects;
# noise added so that tau2 > 0 under REML (trimfill fills k0 = 5 on the left)
syn_asym_vi <- c(0.004, 0.006, 0.009, 0.012, 0.018, 0.025,
                 0.035, 0.050, 0.070, 0.100, 0.140, 0.200)
syn_asym <- list(study = paste0("S", 1:12),
                 yi = round(0.10 + 1.6 * sqrt(syn_asym_vi) +
                              c(0.10, -0.12, 0.05, 0.15, -0.08, 0.12,
                                -0.15, 0.20, 0.02, -0.10, 0.25, 0.12), 4),
                 vi = syn_asym_vi)

# binary with a single zero-event arm (study S1, intervention arm)
syn_zero <- list(study = paste0("S", 1:5),
                 e1 = c(0, 3, 5, 2, 8),  n1 = c(40, 50, 60, 45, 100),
                 e2 = c(4, 7, 9, 6, 12), n2 = c(40, 52, 58, 47, 98))

# binary with one double-zero study (S1: no events in either arm)
syn_dz <- list(study = paste0("S", 1:5),
               e1 = c(0, 2, 5, 1, 7),  n1 = c(30, 50, 80, 40, 120),
               e2 = c(0, 6, 11, 4, 15), n2 = c(30, 48, 82, 41, 118))

# continuous: one huge trial (S6) among small ones
syn_huge <- list(study = paste0("S", 1:6),
                 n1 = c(20, 25, 30, 18, 22, 5000), m1 = c(10.2, 11.5, 9.8, 12.1, 10.9, 10.6),
                 sd1 = c(3.1, 2.8, 3.5, 3.0, 2.6, 3.2),
                 n2 = c(21, 24, 29, 20, 23, 5000), m2 = c(12.0, 12.1, 11.9, 12.6, 13.0, 11.4),
                 sd2 = c(3.3, 3.0, 3.2, 2.9, 2.8, 3.1))

# continuous: very unequal arm sizes
syn_unequal <- list(study = paste0("S", 1:5),
                    n1 = c(10, 12, 8, 15, 9), m1 = c(24.0, 22.5, 25.1, 23.3, 26.0),
                    sd1 = c(5.0, 4.6, 5.5, 4.9, 6.1),
                    n2 = c(200, 180, 250, 150, 300), m2 = c(21.0, 21.8, 20.5, 22.9, 21.4),
                    sd2 = c(5.2, 4.8, 5.1, 5.0, 5.6))

# k = 2: first two studies of dat.normand1999 (real data subset)
normand_first2 <- lapply(normand, function(col) col[1:2])

# synthetic two-level grouping for normand subgroup case
normand_grp <- c("A", "B", "A", "B", "A", "B", "A", "B", "A")

# ---------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------

cases <- list()
add_case <- function(...) {
  case <- make_case(...)
  cat(sprintf("%-55s %s\n", case$name,
              if (is.null(case$notes)) "" else paste("NOTES:", case$notes)))
  cases[[length(cases) + 1]] <<- case
}

# dat.bcg RR (cumulative by publication year)
for (m in c("FE", "DL", "REML", "PM", "SJ", "ML", "HE", "EB"))
  add_case(paste0("bcg_RR_", m), "RR", m, bcg, order = dat.bcg$year)
for (m in c("REML", "DL"))
  add_case(paste0("bcg_RR_", m, "_knha"), "RR", m, bcg, test = "knha", order = dat.bcg$year)
# modified Knapp-Hartung (test = "adhoc", Roever et al. 2015) for every estimator
for (m in c("FE", "DL", "REML", "PM", "SJ", "ML", "HE", "EB"))
  add_case(paste0("bcg_RR_", m, "_adhoc"), "RR", m, bcg, test = "adhoc", order = dat.bcg$year)
# dat.bcg OR
for (m in c("FE", "MH", "PETO", "REML"))
  add_case(paste0("bcg_OR_", m), "OR", m, bcg)
# dat.bcg RD
for (m in c("FE", "MH", "DL", "REML"))
  add_case(paste0("bcg_RD_", m), "RD", m, bcg)

# dat.normand1999 MD / SMD
for (ms in c("MD", "SMD")) {
  for (m in c("FE", "DL", "REML", "PM", "SJ", "ML", "HE", "EB"))
    add_case(paste0("normand1999_", ms, "_", m), ms, m, normand)
  add_case(paste0("normand1999_", ms, "_REML_knha"), ms, "REML", normand, test = "knha")
  add_case(paste0("normand1999_", ms, "_REML_adhoc"), ms, "REML", normand, test = "adhoc")
}

# GEN data sets
for (ds in list(list("hackshaw1998", hackshaw), list("bangertdrowns2004", bangert))) {
  for (m in c("REML", "DL", "PM", "FE"))
    add_case(paste0(ds[[1]], "_GEN_", m), "GEN", m, ds[[2]])
  add_case(paste0(ds[[1]], "_GEN_REML_knha"), "GEN", "REML", ds[[2]], test = "knha")
  add_case(paste0(ds[[1]], "_GEN_PM_adhoc"), "GEN", "PM", ds[[2]], test = "adhoc")
}
add_case("synthetic_asymmetric_k12_GEN_REML", "GEN", "REML", syn_asym)
add_case("synthetic_asymmetric_k12_GEN_FE", "GEN", "FE", syn_asym)

# subgroups
add_case("bcg_RR_REML_subgroup_alloc", "RR", "REML", bcg,
         subgroup = list(column = "alloc", values = bcg_alloc))
add_case("normand1999_MD_DL_subgroup_synthetic_grp", "MD", "DL", normand,
         subgroup = list(column = "grp", values = normand_grp))

# edge cases
add_case("synthetic_k1_GEN_REML", "GEN", "REML", syn_k1)
add_case("synthetic_k1_GEN_FE", "GEN", "FE", syn_k1)
# k = 1 with Knapp-Hartung: metafor switches to the z test ("Setting argument test='z' since k=1")
add_case("synthetic_k1_GEN_REML_knha", "GEN", "REML", syn_k1, test = "knha")
add_case("synthetic_k1_GEN_DL_adhoc", "GEN", "DL", syn_k1, test = "adhoc")
add_case("normand1999_first2_k2_MD_REML", "MD", "REML", normand_first2)
add_case("normand1999_first2_k2_MD_DL", "MD", "DL", normand_first2)
# k = 2 with Knapp-Hartung: leave-one-out and cumulative fits have k = 1 (z test)
add_case("normand1999_first2_k2_MD_REML_knha", "MD", "REML", normand_first2, test = "knha")
add_case("normand1999_first2_k2_MD_DL_adhoc", "MD", "DL", normand_first2, test = "adhoc")
# two MD studies on a 0-100 scale far apart: the Q-profile upper bound of tau2 lies far
# beyond metafor's default search limit max(100, 10 * tau2)
syn_two_md <- list(study = c("A", "B"), yi = c(-10, -30), vi = c(20, 25))
add_case("synthetic_two_md_GEN_REML", "GEN", "REML", syn_two_md)
add_case("synthetic_two_md_GEN_DL_knha", "GEN", "DL", syn_two_md, test = "knha")
for (m in c("REML", "DL", "PM"))
  add_case(paste0("synthetic_homogeneous_tau2zero_GEN_", m), "GEN", m, syn_homog)
add_case("synthetic_homogeneous_GEN_REML_knha_se_below_z", "GEN", "REML", syn_homog, test = "knha")
for (ms in c("OR", "RR", "RD"))
  for (m in c("FE", "REML"))
    add_case(paste0("synthetic_zero_arm_", ms, "_", m), ms, m, syn_zero)
for (ms in c("OR", "RR"))
  for (m in c("DL", "MH"))
    add_case(paste0("synthetic_double_zero_", ms, "_", m), ms, m, syn_dz)
add_case("synthetic_one_huge_trial_MD_REML", "MD", "REML", syn_huge)
add_case("synthetic_unequal_arms_SMD_REML", "SMD", "REML", syn_unequal)

# generic: Fisher scoring oscillates slowly around the REML solution (group 624 of the
# seeded benchmark data in benchmarks/run.py); with metafor's default threshold it stops
# about 4e-6 short, and without the tight control it may not converge at all
syn_oscillating <- list(study = paste0("s", 0:7),
                        yi = c(0.6790360480228674, 0.5845616496969702, 0.10513366267735647, 0.10058527154390179, 0.19021098370012957, 0.4488366245736735, 0.3608459022120332, 0.19040800600432323),
                        vi = c(0.12612904950577525, 0.013258784647490567, 0.01927626600462883, 0.08736734776114605, 0.060194348720010525, 0.08502355569458017, 0.17548769616597207, 0.14789076365347786))
add_case("synthetic_oscillating_GEN_REML", "GEN", "REML", syn_oscillating)
add_case("synthetic_oscillating_GEN_ML", "GEN", "ML", syn_oscillating)

# ---------------------------------------------------------------------------
# sanity checks against documented values, then write
# ---------------------------------------------------------------------------

by_name <- setNames(cases, vapply(cases, `[[`, "", "name"))

# documented dat.bcg REML log RR: -0.7145, SE 0.1798, tau2 0.3132, I2 92.22%
f <- by_name[["bcg_RR_REML"]]$fit
stopifnot(abs(f$estimate - (-0.7145)) < 5e-5, abs(f$se - 0.1798) < 5e-5,
          abs(f$tau2 - 0.3132) < 5e-5, abs(f$i2 - 92.22) < 5e-3)

# the knha case must have a knha SE below the z SE
z_se <- by_name[["synthetic_homogeneous_tau2zero_GEN_REML"]]$fit$se
k_se <- by_name[["synthetic_homogeneous_GEN_REML_knha_se_below_z"]]$fit$se
stopifnot(k_se < z_se)

ref <- list(
  r_version       = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  control = list(rma = CTRL, confint = CI_CTRL,
                 trimfill = "trimfill(res, control = rma control)",
                 fe_method = "FE"),
  cases = cases
)

write_json(ref, out_path, auto_unbox = TRUE, digits = NA, null = "null",
           na = "null", pretty = TRUE)
cat(sprintf("wrote %d cases to %s\n", length(cases), out_path))
