"""Data of the Emissor and Ouvidoria sandbox account, written the way agents write.

Teams, agents, client companies (valid CNPJs, 14 digits as the Persons API stores them),
client persons, the custom fields the Emissor flows read (seed 002: onboarding flag and
category, the onboarding ticket, the non-payment block and its reason, the linked card)
and the actions of the seeded tickets: customers' HTML messages, agents' internal notes in
HTML with ``&nbsp;``, lower-case marks, typos and missing accents, prints attached to
internal notes. ``seeds.setup_emissor_account`` turns them into an account.
"""

from __future__ import annotations

from collections.abc import Mapping

TEAMS: tuple[str, ...] = ("Suporte N1", "Financeiro-Atendimento", "Ouvidoria", "Onboarding")

AGENTS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    # user name: (business name, teams)
    "carla.mendes": ("Carla Mendes", ("Suporte N1",)),
    "diego.rocha": ("Diego Rocha", ("Suporte N1",)),
    "lucas.pereira": ("Lucas Pereira", ("Suporte N1",)),
    "patricia.lima": ("Patrícia Lima", ("Financeiro-Atendimento",)),
    "bruna.alves": ("Bruna Alves", ("Onboarding",)),
    # Seed 004: "Atribuir esse ticket de OUVIDORIA para Richard"; Cecília treats it too,
    # and a dedicated N2 analyst does the technical part.
    "richard": ("Richard", ("Ouvidoria",)),
    "cecilia.prado": ("Cecília Prado", ("Ouvidoria",)),
    "marcos.teixeira": ("Marcos Teixeira", ("Ouvidoria", "Suporte N1")),
}

COMPANIES: Mapping[str, tuple[str, str, str]] = {
    # key: (business name, CNPJ, e-mail)
    "mercadinho_sol": (
        "Mercadinho Sol Nascente Ltda",
        "52601815000120",
        "contato@mercadinhosol.com.br",
    ),
    "clinica_sorriso": ("Clínica Sorriso Pleno Ltda", "90830166000128", "adm@sorrisopleno.com.br"),
    "ph_eletrica": ("PH Elétrica ME", "13186091000143", "paulo@ph-eletrica.com.br"),
    "loja_prates": ("Loja Prates Calçados", "39099603000128", "juliana@lojaprates.com.br"),
    "cafeteria_luar": ("Cafeteria Luar Eireli", "08246281000179", "marcelo@cafeterialuar.com.br"),
    "boa_safra": ("Distribuidora Boa Safra Ltda", "94821993000106", "fiscal@boasafra.com.br"),
    "estudio_vida": ("Estúdio Pilates Vida ME", "51819093000111", "contato@pilatesvida.com.br"),
    "padaria_trigo": ("Padaria Trigo de Ouro", "78657975000184", "gerencia@trigodeouro.com.br"),
    "contabilidade_forte": (
        "Contabilidade Forte",
        "78778932000157",
        "sonia@contabilidadeforte.com.br",
    ),
}

CLIENTS: Mapping[str, tuple[str, str, str | None]] = {
    # key: (name, e-mail, company key); the requesters of the seeded tickets
    "sonia_mercadinho": ("Sônia Araújo", "sonia.araujo@mercadinhosol.com.br", "mercadinho_sol"),
    "rafael_sorriso": ("Rafael", "rafael@sorrisopleno.com.br", "clinica_sorriso"),
    "paulo_ph": ("Paulo Henrique", "paulo@ph-eletrica.com.br", "ph_eletrica"),
    "juliana_prates": ("Juliana Prates", "juliana@lojaprates.com.br", "loja_prates"),
    "marcelo_luar": ("Marcelo", "marcelo@cafeterialuar.com.br", "cafeteria_luar"),
    "ana_boasafra": ("Ana Beatriz", "fiscal@boasafra.com.br", "boa_safra"),
    "tati_vida": ("Tatiane Lopes", "tati@pilatesvida.com.br", "estudio_vida"),
    "jose_trigo": ("José Carlos (Padaria)", "gerencia@trigodeouro.com.br", "padaria_trigo"),
    "sonia_forte": ("Sônia", "sonia@contabilidadeforte.com.br", "contabilidade_forte"),
    # Seed 004 passo 5: the e-mail the OUVIDORIA ticket is opened for.
    "ouvidoria_bematech": ("Ouvidoria Bematech", "ouvidoria@bematech.com.br", None),
}

CUSTOM_FIELDS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    # key: (label, type, choices)
    "em_onboarding": ("Cliente em onboarding?", "list", ("Sim", "Não")),
    "categoria_onboarding": (
        "Categoria do onboarding",
        "list",
        ("Implantação", "Migração de sistema", "Treinamento"),
    ),
    "ticket_onboarding": ("Ticket do onboarding", "text", ()),
    "bloqueio_inadimplencia": ("Bloqueio por inadimplência", "list", ("Sim", "Não")),
    "motivo_bloqueio": ("Motivo do bloqueio", "text", ()),
    "card_vinculado": ("Card vinculado", "text", ()),
}

CATEGORIES: tuple[str, ...] = (
    "Emissão de notas",
    "Falha no sistema",
    "Solicitação de serviço",
    "Agendamento",
    "Financeiro",
    "Onboarding",
    "Hardware",
    "Ouvidoria",
)

# ----------------------------------------------------------------------- actions

ONBOARDING_KICKOFF = (
    "<p>Olá Rafael, tudo bem?</p><p>Seja bem-vindo ao eNotas! Sou a Bruna e vou acompanhar a "
    "implantação de voces. Nossa reunião de kick-off fica para quinta às 10h.</p>"
    "<p>Att,<br>Bruna Alves | Onboarding</p>"
)
ONBOARDING_NOTE = (
    "<p>Implantação em andamento: certificado A1 instalado, falta configurar a prefeitura "
    "de Osasco (RPS serie 1).&nbsp;Previsao de go-live 28/11.</p>"
)
ONBOARDING_CUSTOMER = (
    "<div>Boa tarde,</div><div>estou tentando transmitir a NFS-e e aparece "
    "<b>erro E4 - lote rejeitado</b>. Ja tentei 3 vezes.</div><div>Rafael - Clínica Sorriso "
    "Pleno</div>"
)
ONBOARDING_AGENT = (
    "<p>cliente ainda ta em implantação com a Bruna (onboarding), ver tkt do onboarding "
    "no campo adicional.</p>"
)
ONBOARDING_UNKNOWN_CUSTOMER = (
    "<p>Oi! Comecei a usar o sistema semana passada e nao to conseguindo cadastrar o "
    "servico de aula de pilates, da erro de codigo de servico invalido.</p>"
    "<p>Tatiane - Estúdio Pilates Vida</p>"
)
ONBOARDING_UNKNOWN_AGENT = (
    "<p>Cliente novo, marcado como onboarding no cadastro mas nao achei o ticket do "
    "onboarding dela.</p>"
)
FINANCE_CUSTOMER = (
    "<p>Bom dia, o painel ta mostrando <strong>conta suspensa</strong> e nao consigo emitir "
    "nenhuma nota!! preciso urgente pq o caixa esta parado</p><p>Sônia - Mercadinho Sol "
    "Nascente</p>"
)
FINANCE_AGENT = (
    "<p>Cliente informa que o painel exibe mensagem de conta suspensa.</p>"
    "<p>Confirmado no #finan-suporte com a Patricia: bloqueio por inadimplencia, fatura de "
    "outubro em aberto ha 35 dias.&nbsp;Segue prints do Embed e da conversa.</p>"
)
DUPLICATE_OLD_CUSTOMER = (
    "<p>O app não abre, fica na tela branca e fecha sozinho. Uso Android.</p>"
    "<p>Paulo Henrique - PH Elétrica</p>"
)
DUPLICATE_NEW_CUSTOMER = (
    "<p>Bom dia, continua o problema do app que nao abre no celular, abri outro chamado "
    "antes mas ninguem me respondeu</p>"
)
DUPLICATE_CARD_NOTE = (
    "<p>Checklist - Falha no sistema</p><p>A falha refere-se a:</p><p>(x) Apps&nbsp;( ) "
    "Painel Emissor&nbsp;( ) Integração API&nbsp;( ) Integração SEFAZ/Prefeitura</p>"
    "<p>Cliente passou dados de acesso?</p><p>( ) Sim&nbsp;(x) Não&nbsp;( ) Não se aplica</p>"
    "<p>Emissão automática está habilitada?</p><p>( ) Sim&nbsp;( ) Não&nbsp;(x) Não se "
    "aplica</p><p>Cadastro da empresa está preenchido corretamente no eNotas?</p><p>(x) "
    "Sim&nbsp;( ) Não</p><p>Descrição da análise realizada:</p><p>App Android fecha ao abrir "
    "a lista de notas (versao 4.12); card DEV-4821 aberto pro time mobile.</p>"
)
MERGE_OLD_CUSTOMER = (
    "<p>Preciso importar as vendas de outubro, segue planilha em anexo.</p><p>Marcelo</p>"
)
MERGE_OLD_AGENT = (
    "<p>Planilha recebida, 312 linhas. Vou conferir e agendar a importação.</p>"
    "<p><b>Checklist - Solicitação de serviço</b></p><p>Serviço solicitado:</p><p>( ) "
    "Conferência de relatórios&nbsp;(X) Importação de vendas&nbsp;( ) Localização de "
    "numeração&nbsp;( ) Outro</p><p>Cliente enviou os arquivos/dados necessários?</p>"
    "<p>(X) Sim&nbsp;( ) Não</p><p>Descrição da análise realizada:</p><p>planilha com "
    "312 vendas de outubro, colunas ok; importação agendada pro lote de amanhã.</p>"
)
MERGE_NEW_CUSTOMER = (
    "<p>Oi, conseguiram importar as vendas de outubro?? mandei a planilha semana passada</p>"
)
FALHA_CUSTOMER = (
    "<p>As notas do Mercado Livre pararam de sincronizar desde ontem.</p><p>Juliana</p>"
)
FALHA_COMPLETE = (
    "<p><strong>Checklist - Falha no sistema</strong></p><p>A falha refere-se a:</p>"
    "<p>( ) Apps&nbsp;( ) Painel Emissor&nbsp;(X) Integração API&nbsp;( ) Integração "
    "SEFAZ/Prefeitura</p><p>Cliente passou dados de acesso?</p><p>( ) Sim&nbsp;( ) "
    "Não&nbsp;(X) Não se aplica</p><p>Emissão automática está habilitada?</p><p>(X) "
    "Sim&nbsp;( ) Não&nbsp;( ) Não se aplica</p><p>Cadastro da empresa está preenchido "
    "corretamente no eNotas?</p><p>(X) Sim&nbsp;( ) Não</p><p>Descrição da análise "
    "realizada:</p><p>Card em aberto no desenvolvimento sobre a integração do Mercado Livre "
    "não atualizar a situação das vendas automaticamente. Considerações: cliente não "
    "consegue emitir de forma automatica até a correção.</p>"
)
INCOMPLETE_CUSTOMER = "<p>Minha nota foi rejeitada, codigo E160. O que faço?</p>"
INCOMPLETE_CHECKLIST = (
    "<p>Checklist - Emissão de notas / Rejeição (correção)</p><p>Tipo de documento:</p>"
    "<p>( ) NF-e&nbsp;(x) NFS-e&nbsp;( ) NFC-e</p><p>Motivo da rejeição identificado?</p>"
    "<p>( ) Sim&nbsp;( ) Não</p><p>Emissão/correção realizada no painel do cliente?</p>"
    "<p>(x) Sim&nbsp;(x) Não</p><p>Descrição da análise realizada:</p><p></p>"
)
OUVIDORIA_CUSTOMER = (
    "<p>A impressora fiscal trava toda hora na hora de imprimir o cupom, ja é o terceiro "
    "chamado que abro!!</p>"
)
OUVIDORIA_AGENT = (
    "<p>Cliente ligou no 0800 bem insatisfeito. Relato do cliente: impressora MP-4200 trava "
    "no meio da impressão do cupom desde a semana passada, terceiro chamado sobre o mesmo "
    "problema.</p><p>Procedimentos do Book realizados: trocamos a bobina, reinstalei o "
    "driver e atualizei o firmware, testei impressão com o cliente e voltou a travar.</p>"
    "<p>Cliente nao concordou com a resolução e pediu pra abrir ouvidoria, optou por abrir "
    "neste atendimento. Canal: 0800</p>"
)
OUVIDORIA_CHAT_AGENT = (
    "<p>Atendimento via chat. Cliente solicitou ouvidoria pois o leitor de código de barras "
    "parou depois da troca, ja reconfiguramos o leitor e refizemos o pareamento conforme o "
    "Book.</p><p>Canal: chat</p>"
)
PAST_CUSTOMER = "<p>A numeração do RPS pulou do 1520 para o 1600, como corrijo?</p>"
PAST_AGENT = "<p>Ajustado o próximo número de RPS no painel, cliente confirmou.</p>"
